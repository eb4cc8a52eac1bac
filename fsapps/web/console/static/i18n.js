// The page's message catalogue (the server embeds the reader's language's): every string
// a person reads goes through t(); an API error through errorText(), by its stable code.
const catalogue = JSON.parse(document.getElementById('catalogue').textContent);

export const lang = document.documentElement.lang;

export function has(key) {
  return Object.prototype.hasOwnProperty.call(catalogue, key);
}

export function t(key, values = {}) {
  if (!has(key)) {
    console.error(`[catalogue] missing key ${key}`);
    return `[[${key}]]`;
  }
  return catalogue[key].replace(/\{(\w+)\}/g, (all, name) => (name in values ? String(values[name]) : all));
}

// What went wrong, in the reader's language: the code's message (or a general one naming
// the code), and for invalid input the fields and why, as the API said them.
export function errorText(err) {
  const head = has(`error.${err.code}`) ? t(`error.${err.code}`) : t('error.unknown', {code: err.code, status: err.status});
  // apiflask's 422: detail = {location: {field: [why, ...]}} (location: json, query, ...)
  const fields = [];
  for (const [where, byField] of Object.entries(err.detail || {})) {
    if (where === 'problems' || !byField || typeof byField !== 'object') continue;
    for (const [field, why] of Object.entries(byField)) fields.push(`${field}: ${[].concat(why).join(' ')}`);
  }
  return {head, more: fields.length ? fields.join('; ') : (err.message || '')};
}

// Times are shown in the tenant's timezone (its IANA name, from GET .../console-settings),
// not the browser's: a supervisor abroad and the floor read the same clock. Until a page
// knows it (an operator across tenants), the browser's.
let zone;

export function setZone(name) {
  zone = name || undefined;
}

function at(value) {
  return typeof value === 'number' ? new Date(value * 1000) : new Date(value);
}

// A time the API gave (ISO 8601) or seconds since the epoch, in the reader's language.
export function when(value) {
  if (value === null || value === undefined || value === '') return '';
  return new Intl.DateTimeFormat(lang, {dateStyle: 'short', timeStyle: 'short', timeZone: zone}).format(at(value));
}

// A wall-clock time typed or picked on a page ("2026-12-06T09:30" or a day "2026-12-06"), read
// in the tenant's zone: the instant (ISO 8601, UTC). A time the zone skips or repeats (a DST
// change) takes the offset in force just before it.
export function instant(local) {
  if (!local) return null;
  const [date, time = '00:00'] = local.split('T');
  const [y, mo, d] = date.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const wall = Date.UTC(y, mo - 1, d, hh, mm);
  if (Number.isNaN(wall)) return null;
  if (!zone) return new Date(y, mo - 1, d, hh, mm).toISOString(); // the browser's, as before
  const offset = (t) => {
    const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', {timeZone: zone, hourCycle: 'h23', year: 'numeric',
      month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric'})
      .formatToParts(new Date(t)).map((x) => [x.type, Number(x.value)]));
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(t / 1000) * 1000;
  };
  let at = wall - offset(wall);
  at = wall - offset(at);
  return new Date(at).toISOString();
}

// The day after a "YYYY-MM-DD" (a range's end: the instant the next day starts).
export function nextDay(day) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

// The time of day alone (a wallboard's "updated at"), with seconds.
export function timeOfDay(value) {
  return new Intl.DateTimeFormat(lang, {timeStyle: 'medium', timeZone: zone}).format(at(value));
}

export function seconds(s) {
  const n = Math.max(0, Math.floor(Number(s) || 0));
  const m = Math.floor(n / 60);
  return `${m}:${String(n % 60).padStart(2, '0')}`;
}

// A value from the API with a catalogue entry (an agent status, a call state): its words.
export function label(prefix, value) {
  return has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : String(value ?? '');
}
