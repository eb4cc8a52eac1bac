"""The API's routes, one blueprint per kind of resource; each route is a thin adapter
over fsapps.web.service, which checks the policy and runs the SQL in the tenant's wall."""

from __future__ import annotations

from apiflask import APIFlask


def register(app: APIFlask) -> None:
    from fsapps.web.routes import (
        agents,
        calls,
        card_voicemails,
        console_settings,
        customers,
        desk,
        events,
        floor,
        flows,
        knowledge,
        pickups,
        qa,
        queues,
        recordings,
        records,
        selfservice,
        session,
        staff,
        tenant_admin,
        tenant_config,
        tenants,
        tickets,
        voicemails,
        webhooks,
    )

    for module in (session, tenants, agents, queues, calls, flows, selfservice, records, recordings,
                   events, floor, customers, qa, desk, webhooks, console_settings,
                   tenant_config):
        app.register_blueprint(module.bp)
    app.register_blueprint(records.everyone)
    app.register_blueprint(events.everyone)
    app.register_blueprint(staff.agents)
    app.register_blueprint(staff.tiers)
    app.register_blueprint(knowledge.bp)
    app.register_blueprint(knowledge.wrapup)
    app.register_blueprint(tickets.bp)
    app.register_blueprint(tickets.public)
    app.register_blueprint(voicemails.bp)
    app.register_blueprint(tenant_admin.bp)
    app.register_blueprint(card_voicemails.bp)
    app.register_blueprint(pickups.bp)
