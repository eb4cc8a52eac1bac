"""What the demo's tenant has on its pages before anyone types: a QA scorecard for the ``qa``
login to score calls against, knowledge-base articles and each queue's call script (in
English and Chinese, so the desk's search shows both at work), and a few tickets in
different states for the ticket list and the customers' timelines.

Made through the API's own services as the tenant admin would make them (the scorecard's
criteria checked, the tickets numbered with their SLA clocks), not by writing rows."""

from __future__ import annotations

import time
from typing import Any

from fsapps.flows.model import Project
from fsapps.store.db import Store
from fsapps.web.knowledge import Knowledge
from fsapps.web.policy import Principal, Role
from fsapps.web.qa import QualityAssurance
from fsapps.web.service import Service
from fsapps.web.ticketing import Tickets

SCORECARD_NAME = "Helpline call quality"
CRITERIA: list[dict[str, Any]] = [
    {"label": "Greeted the caller and gave their name", "weight": 1, "type": "yes_no"},
    {"label": "Checked the account holder (security questions)", "weight": 3, "type": "yes_no",
     "critical": True},
    {"label": "Understood and solved the problem", "weight": 4, "type": "scale", "max": 5},
    {"label": "Tone and courtesy", "weight": 2, "type": "scale", "max": 5},
    {"label": "Offered a ticket or a callback where needed", "weight": 1, "type": "yes_no"},
]  # fmt: skip

ARTICLES: list[dict[str, Any]] = [
    {"kind": "article", "title": "Resetting a Northwind router", "tags": ["router", "broadband"],
     "queues": ["support"],
     "body": "1. Ask the caller to unplug the router for 30 seconds.\n2. Plug it back in and wait for the"
             " **Internet** light to turn white (about two minutes).\n3. Still red? Open a ticket for a"
             " line test."},
    {"kind": "article", "title": "Why a bill is higher than usual", "tags": ["billing"],
     "queues": ["billing"],
     "body": "Most often: calls to premium numbers, roaming, or the end of a discount. Read the caller the"
             " extra lines of their last bill before offering a credit."},
    {"kind": "article", "title": "光猫重启步骤", "tags": ["宽带", "光猫"], "queues": ["support"],
     "body": "1. 请客户拔掉光猫电源，等待三十秒。\n2. 重新通电，等待**网络**指示灯变为常亮（约两分钟）。\n"
             "3. 指示灯仍为红色：为客户创建工单，安排线路检测。"},
    {"kind": "article", "title": "账单金额异常的常见原因", "tags": ["账单"], "queues": ["billing"],
     "body": "常见原因：拨打了增值号码、国际漫游、优惠期结束。"
             "先向客户逐项核对上期账单的新增费用，再考虑减免。"},
    {"kind": "script", "title": "Billing call script", "tags": ["script"], "queues": ["billing"],
     "body": "**Open:** Thank you for calling Northwind billing, my name is … How can I help?\n\n"
             "**Check:** May I have the account holder's full name and postcode?\n\n"
             "**Close:** Is there anything else about your bill today? / 还有其他账单问题吗？"},
    {"kind": "script", "title": "技术支持通话脚本", "tags": ["脚本"], "queues": ["support"],
     "body": "**开场：**您好，这里是 Northwind 技术支持，我是……请问有什么可以帮您？\n\n"
             "**核实：**请提供账户持有人的姓名和邮编。\n\n"
             "**结束：**问题已经解决了吗？如未解决，我为您创建工单并在两小时内回电。"},
]  # fmt: skip

# (subject, body, the customer's number or None, priority, assignee queue, assignee agent, state)
TICKETS = [
    ("Broadband drops every evening", "Line test booked; customer works from home.", "07700900101",
     "high", "support", None, "new"),
    ("Refund for a double charge", "Charged twice for November.", "07700900102", "normal", "billing", "ann",
     "open"),
    ("宽带晚间频繁掉线", "客户反映每晚八点后断线，已约线路检测。", "07700900103", "urgent", "support",
     None, "new"),
    ("Change of address", "Moving on the 15th; wants the line moved.", "07700900104", "low", None, "ben",
     "pending"),
]  # fmt: skip


def seed_content(store: Store, project: Project, admin_id: int, admin: str) -> dict[str, int]:
    """The scorecard, articles, scripts and tickets of the project's tenant, made by its tenant
    admin ``admin`` (user ``admin_id``); how many of each."""
    tenant = project.tenants[0]
    queues = {name: dict(q.data or {}) for name, q in tenant.queues.items()}
    service = Service(store, Principal(admin_id, admin, Role.TENANT_ADMIN, tenant.id),
                      queues=lambda t: queues if t == tenant.id else {}, clock=time.time)  # fmt: skip
    QualityAssurance(service).create_scorecard(tenant.id, SCORECARD_NAME, CRITERIA)
    kb = Knowledge(service)
    for article in ARTICLES:
        kb.create(tenant.id, article)
    tickets = Tickets(service)
    with store.tenant(tenant.id) as t:
        rows = t._all("SELECT number, customer_id FROM customer_numbers")
    by_number = {r["number"]: r["customer_id"] for r in rows}
    for subject, body, number, priority, queue, agent, state in TICKETS:
        made = tickets.create(tenant.id, {
            "subject": subject, "body": body, "source": "agent", "priority": priority,
            "customer_id": by_number.get(number) if number else None, "contact": number or "",
            "assignee_queue": queue, "assignee_agent": agent,
        })  # fmt: skip
        if state != "new":
            tickets.patch(tenant.id, made["number"], {"state": state})
    return {"scorecards": 1, "articles": len(ARTICLES), "tickets": len(TICKETS)}
