"""The knowledge base and call scripts over HTTP, against the real PostgreSQL: Chinese found
by its words (segmented by jieba, no pg_trgm or zhparser in the embedded server), English by
the word and its longer forms, hostile search strings harmless, the queue's script, and
another tenant's articles out of reach."""

from __future__ import annotations

import urllib.parse

import pytest

from fsapps.web.app import ApiContext
from tests.support.api import QUEUES, Client, populate, serve_api, static_queues

A = "/api/v1/tenants/acme/kb/articles"


@pytest.fixture
def api(store):
    cc = populate(store)
    server = serve_api(ApiContext(store, static_queues(QUEUES)))

    def as_(role: str, tenant: str = "acme") -> Client:
        return Client(server.server_port, token=cc.token(role, tenant))

    yield as_
    server.stop()


def _search(client: Client, q: str, path: str = A, **more: str) -> list[str]:
    r = client.get(path + "?" + urllib.parse.urlencode({"q": q, **more}))
    assert r.status == 200, r
    return [a["title"] for a in r.json]


@pytest.fixture
def articles(api):
    sup = api("supervisor")
    made = {}
    for title, body, tags in (
        ("如何办理信用卡挂失", "客户的信用卡丢失时，先核实身份，再冻结卡片。\n\n- 核实身份证号\n- 冻结卡片",
         ["信用卡"]),
        ("账单分期", "信用卡账单可以分成 3、6、12 期。", []),
        ("Refund policy", "Customers may ask for refunds within 30 days of purchase.", ["billing"]),
        ("Account recovery", "Send the reset link by e-mail; never read a password aloud.", []),
    ):
        r = sup.request("POST", A, {"title": title, "body": body, "tags": tags})
        assert r.status == 201, r
        made[title] = r.json
    return made


def test_chinese_is_found_by_its_words_not_by_like(api, articles) -> None:
    agent = api("agent")
    assert _search(agent, "信用卡 挂失") == ["如何办理信用卡挂失"]
    assert _search(agent, "挂失") == ["如何办理信用卡挂失"]
    # Both mention 信用卡: the one with it in its title and tags ranks first.
    assert _search(agent, "信用卡") == ["如何办理信用卡挂失", "账单分期"]
    # A word jieba cuts otherwise in the query than in the text still matches as characters.
    assert _search(agent, "卡挂失") == ["如何办理信用卡挂失"]
    assert _search(agent, "冻结") == ["如何办理信用卡挂失"]
    # Every word is required: one that is nowhere finds nothing.
    assert _search(agent, "信用卡 退款") == []
    # Characters that are not adjacent in the text are no match for a word of them.
    assert _search(agent, "挂卡") == []


def test_english_is_found_by_the_word_and_its_longer_forms(api, articles) -> None:
    agent = api("agent")
    assert _search(agent, "refund") == ["Refund policy"]  # and refunds, in the body
    assert _search(agent, "REFUNDS") == ["Refund policy"]
    assert _search(agent, "purchase days") == ["Refund policy"]
    assert _search(agent, "mail") == ["Account recovery"]  # e-mail: e and mail
    assert _search(agent, "refund password") == []
    assert _search(agent, "pa") == []  # two letters: the word itself, not every word they start
    assert _search(agent, "billing") == ["Refund policy"]  # a tag


@pytest.mark.parametrize("hostile", [
    "&|!():*", "refund & !", "')) OR 1=1 --", "zq:*X | !yk", "\\", "'", "挂失 ) ( ", "<->", "%s %(q)s",
    "信用卡 & | 挂失", "refund:*", "!!refund",
])  # fmt: skip
def test_hostile_search_strings_are_words_or_nothing(api, articles, hostile: str) -> None:
    agent = api("agent")
    r = agent.get(A + "?" + urllib.parse.urlencode({"q": hostile}))
    assert r.status == 200, r
    titles = [a["title"] for a in r.json]
    words = {"refund": ["Refund policy"], "挂失": ["如何办理信用卡挂失"]}
    expected = next((v for k, v in words.items() if k in hostile), [])
    if hostile in ("zq:*X | !yk", "')) OR 1=1 --", "%s %(q)s"):
        expected = []  # words nowhere in the articles
    assert titles == expected, (hostile, titles)


def test_a_query_without_words_finds_nothing_and_no_query_lists_newest_first(api, articles) -> None:
    agent = api("agent")
    assert _search(agent, "!!! ??? 。，") == []
    r = agent.get(A + "?limit=2")
    assert [a["title"] for a in r.json] == ["Account recovery", "Refund policy"], r
    assert r.json[0]["rank"] is None


def test_the_queue_script_is_the_queues_own_else_every_queues(api) -> None:
    admin, agent = api("tenant_admin"), api("agent")
    S = "/api/v1/tenants/acme/queues/{}/script"
    assert agent.get(S.format("support")).json["code"] == "no_script"
    every = admin.request("POST", A, {"kind": "script", "title": "Greeting", "body": "Thanks for calling."})
    own = admin.request("POST", A, {"kind": "script", "title": "支持热线脚本", "queues": ["support"],
                                    "body": "# 开场\n您好，这里是技术支持。"})  # fmt: skip
    assert (every.status, own.status) == (201, 201), (every, own)
    got = agent.get(S.format("support"))
    assert (got.status, got.json["title"]) == (200, "支持热线脚本")
    assert got.json["updated_by"] == "tenant_admin_acme"
    assert agent.get(S.format("sales")).json["title"] == "Greeting"
    assert agent.get(S.format("nosuch")).json["code"] == "no_such_queue"
    # Scripts are searchable as articles are, and found by kind and queue.
    assert _search(agent, "技术支持", kind="script") == ["支持热线脚本"]
    assert _search(agent, "技术支持", kind="article") == []
    listed = agent.get(A + "?kind=script&queue=sales").json
    assert [a["title"] for a in listed] == ["Greeting"]
    bad = admin.request("POST", A, {"kind": "script", "title": "X", "queues": ["nosuch"]})
    assert (bad.status, bad.json["code"]) == (422, "no_such_queue")


def test_editing_keeps_the_search_in_step_and_records_who(api, articles) -> None:
    admin, agent = api("tenant_admin"), api("agent")
    art = articles["Account recovery"]
    r = admin.request("PATCH", f"{A}/{art['id']}", {"title": "密码重置", "tags": ["账户"]})
    assert (r.status, r.json["title"], r.json["updated_by"]) == (200, "密码重置", "tenant_admin_acme"), r
    assert r.json["body"].startswith("Send the reset link")
    assert _search(agent, "密码") == ["密码重置"]
    assert _search(agent, "账户") == ["密码重置"]
    assert _search(agent, "mail") == ["密码重置"]  # the body, unchanged, still found
    assert _search(agent, "recovery") == []  # the old title no longer
    assert admin.request("DELETE", f"{A}/{art['id']}").status == 204
    assert agent.get(f"{A}/{art['id']}").json["code"] == "no_such_article"


def test_agents_and_qa_read_admins_and_supervisors_write_and_tenants_are_walled(api, articles) -> None:
    agent, qa = api("agent"), api("qa")
    assert agent.request("POST", A, {"title": "Mine"}).status == 403
    assert qa.request("POST", A, {"title": "Mine"}).status == 403
    some = articles["Refund policy"]["id"]
    assert agent.request("PATCH", f"{A}/{some}", {"title": "x"}).status == 403
    assert qa.get(f"{A}/{some}").json["title"] == "Refund policy"
    # Globex's people see none of acme's articles, not even through their own tenant's path.
    other = api("tenant_admin", "globex")
    assert other.get(A).status == 404
    G = A.replace("acme", "globex")
    assert other.get(G).json == []
    assert other.get(f"{G}/{some}").json["code"] == "no_such_article"
    assert other.request("PATCH", f"{G}/{some}", {"title": "mine now"}).status == 404
    assert _search(other, "refund", path=G) == []


def test_bad_articles_are_refused_with_the_field(api) -> None:
    admin = api("tenant_admin")
    for body in ({"body": "no title"}, {"title": ""}, {"title": "x", "kind": "faq"}, {"title": "x" * 301},
                 {"title": "x", "tags": [""]}):  # fmt: skip
        r = admin.request("POST", A, body)
        assert (r.status, r.json["code"]) == (422, "invalid_input"), (body, r)
    long_q = admin.get(A + "?q=" + "x" * 201)
    assert long_q.status == 422
