"""What mod_sofia puts on a channel for an inbound SIP call (fs-traces s04 connect reply)."""

from __future__ import annotations

import uuid as uuidlib

from fsapps.sim.channel import Channel


def sofia_inbound_variables(ch: Channel, profile: str, port: int) -> dict[str, str]:
    """What mod_sofia sets on an inbound call before the dialplan (fs-traces s04)."""
    p = ch.profile
    user = p.caller_id_number
    dest = p.destination_number
    return {
        "direction": "inbound",
        "uuid": ch.uuid,
        "session_id": str(ch.switch.sessions_since_start),
        "sip_from_user": user,
        "sip_from_port": "5070",
        "sip_from_uri": f"{user}@127.0.0.1:5070",
        "sip_from_host": "127.0.0.1",
        "video_media_flow": "disabled",
        "audio_media_flow": "disabled",
        "text_media_flow": "disabled",
        "channel_name": ch.name,
        "sip_call_id": f"{uuidlib.uuid4().hex[:12]}@127.0.0.1",
        "sip_local_network_addr": "127.0.0.1",
        "sip_network_ip": "127.0.0.1",
        "sip_network_port": "5070",
        "sip_invite_stamp": str(ch.switch.clock.micros()),
        "sip_received_ip": "127.0.0.1",
        "sip_received_port": "5070",
        "sip_via_protocol": "udp",
        "sip_from_user_stripped": user,
        "sip_from_tag": uuidlib.uuid4().hex[:10],
        "sofia_profile_name": profile,
        "sofia_profile_url": f"sip:mod_sofia@127.0.0.1:{port}",
        "recovery_profile_name": profile,
        "sip_req_user": dest,
        "sip_req_port": str(port),
        "sip_req_uri": f"{dest}@127.0.0.1:{port}",
        "sip_req_host": "127.0.0.1",
        "sip_to_user": dest,
        "sip_to_port": str(port),
        "sip_to_uri": f"{dest}@127.0.0.1:{port}",
        "sip_to_host": "127.0.0.1",
        "sip_contact_user": user,
        "sip_contact_port": "5070",
        "sip_contact_uri": f"{user}@127.0.0.1:5070",
        "sip_contact_host": "127.0.0.1",
        "rtp_use_codec_string": "PCMU,PCMA,OPUS,G722",
        "sip_via_host": "127.0.0.1",
        "sip_via_port": "5070",
        "max_forwards": "70",
        "switch_r_sdp": "v=0\r\no=fsapps 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio 6000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n",
        "ep_codec_string": "CORE_PCM_MODULE.PCMU@8000h@20i@64000b",
        "endpoint_disposition": "DELAYED NEGOTIATION",
        "call_uuid": ch.uuid,
    }
