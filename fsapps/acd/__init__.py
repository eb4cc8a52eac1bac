"""The ACD: queues, agents, tiers and members in mod_callcenter's terms, and the
pure routing core that decides who is offered to whom."""
