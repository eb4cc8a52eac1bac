"""fsapps.knowledge: how text is cut into the words the knowledge base is searched by, how a
query becomes a tsquery that reads no operator from the user, and which disposition codes
an agent picks from."""

from __future__ import annotations

from fsapps import knowledge


def test_chinese_runs_are_cut_by_jieba_and_followed_by_their_characters() -> None:
    tokens = knowledge.document_tokens("如何办理信用卡挂失")
    assert {"如何", "办理", "信用", "信用卡", "挂失"} <= set(tokens)
    # The characters, one by one and adjacent, after the run's words (the phrase fallback).
    assert tokens[-9:] == list("如何办理信用卡挂失")


def test_other_text_is_lowercase_words_of_letters_and_digits() -> None:
    assert knowledge.document_tokens("E-mail the RMA-42 form, ok?") == ["e", "mail", "the", "rma", "42",
                                                                        "form", "ok"]  # fmt: skip
    assert knowledge.document_tokens("退款 refund退款") == ["退款", "退", "款", "refund", "退款", "退", "款"]


def test_query_words_are_required_terms_and_punctuation_is_no_syntax() -> None:
    terms = knowledge.query_terms("信用卡 & 挂失 | !Refunds:* (pa)")
    assert [(t.word, t.chars, t.prefix) for t in terms] == [
        ("信用卡", "信 用 卡", False), ("挂失", "挂 失", False), ("refunds", "", True), ("pa", "", False)]
    assert knowledge.query_terms("&|!():*'\\ <-> 。，") == []
    assert len(knowledge.query_terms(" ".join(f"w{i}" for i in range(40)))) == knowledge.MAX_QUERY_TERMS


def test_the_tsquery_takes_every_user_word_as_a_parameter() -> None:
    sql, params = knowledge.tsquery_sql(knowledge.query_terms("挂失 refund x"))
    assert sql == ("(plainto_tsquery('simple', %s) || phraseto_tsquery('simple', %s))"
                   " && to_tsquery('simple', %s) && plainto_tsquery('simple', %s)")  # fmt: skip
    assert params == ["挂失", "挂 失", "'refund':*", "x"]


def test_codes_are_the_defaults_until_the_tenant_has_its_own_then_those_for_the_queue() -> None:
    defaults = knowledge.codes_for([], "support")
    assert [c["code"] for c in defaults] == [c for c, _ in knowledge.DEFAULT_CODES]
    assert all(c["default"] for c in defaults)
    own = [{"code": "sold", "label": "成交", "queues": ["sales"], "position": 0},
           {"code": "solved", "label": "已解决", "queues": [], "position": 1}]  # fmt: skip
    assert [c["code"] for c in knowledge.codes_for(own, "support")] == ["solved"]
    assert [c["code"] for c in knowledge.codes_for(own, "sales")] == ["sold", "solved"]
    assert [c["code"] for c in knowledge.codes_for(own, None)] == ["sold", "solved"]
    # A queue none of the tenant's codes applies to still has codes to give its calls.
    only_sales = own[:1]
    defaults = [c for c, _ in knowledge.DEFAULT_CODES]
    assert [c["code"] for c in knowledge.codes_for(only_sales, "support")] == defaults


def test_every_default_code_has_words_in_both_languages() -> None:
    from fsapps.web.console import LANGUAGES, catalogue

    for lang in LANGUAGES:
        words = catalogue(lang)
        assert [c for c, _ in knowledge.DEFAULT_CODES if f"wrapup.code.{c}" not in words] == [], lang
