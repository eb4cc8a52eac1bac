"""The user directory, as switch_xml_locate_user finds users (switch_xml.c:1940-1970).

A domain is the first <domain> of the directory section with that name;
its users are under <users>, or under <groups><group><users>. fsapps
renders voicemail boxes as such users (mailbox only: allow-empty-password
false, so nobody can register as one, sofia_reg.c:3258/3327).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET


class Directory:
    def __init__(self, section: ET.Element | None = None) -> None:
        self.section = section if section is not None else ET.Element("section", name="directory")

    @classmethod
    def from_document(cls, document: ET.Element) -> Directory:
        for section in document.findall("section"):
            if (section.get("name") or "").lower() == "directory":
                return cls(section)
        return cls()

    def domain(self, name: str) -> ET.Element | None:
        for d in self.section.findall("domain"):
            if (d.get("name") or "").lower() == name.lower():
                return d
        return None

    def user(self, user_id: str, domain: str) -> ET.Element | None:
        d = self.domain(domain)
        if d is None:
            return None
        places = [g.find("users") for g in d.findall("groups/group")] + [d.find("users")]
        for users in places:
            if users is None:
                continue
            for u in users.findall("user"):
                if u.get("id") == user_id or u.get("number-alias") == user_id:
                    return u
        return None
