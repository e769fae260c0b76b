# Copyright (c) 2026 The xvif authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at:
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""A steering application for os-ken (OpenFlow 1.3), used by the xvif tests.

It redirects one guest's TCP connections to a service port of one address
to another guest, transparently: the client keeps talking to the address
it asked for.  The rule is read from the file named by $XVIF_OSKEN_STEER;
while the file exists the steering flows are installed (priority 1000,
above any learning switch), and when it is removed they are deleted.  The
file holds one line of whitespace-separated fields:

    CLIENT_PORT SERVICE_IP SERVICE_MAC TCP_PORT TARGET_PORT TARGET_IP TARGET_MAC

Packets from CLIENT_PORT to SERVICE_IP:TCP_PORT get their destination
rewritten to TARGET_IP/TARGET_MAC and go out TARGET_PORT; the target's
answers (from TARGET_IP:TCP_PORT to CLIENT_PORT's side) get SERVICE_IP and
SERVICE_MAC back as their source and go out CLIENT_PORT.  Run it next to a
switching application (tests/xvif-os-ken-l2.py) in the same osken-manager.
"""

import os

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, set_ev_cls
from os_ken.lib import hub
from os_ken.ofproto import ofproto_v1_3

COOKIE = 0x5
PRIORITY = 1000


class XvifSteer(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super(XvifSteer, self).__init__(*args, **kwargs)
        self.rule_file = os.environ.get('XVIF_OSKEN_STEER', '')
        self.datapaths = {}
        self.installed = None
        hub.spawn(self.watch)

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def switch_features(self, ev):
        """Remembers a connected switch; its rules are (re)installed by the
        watcher."""
        self.datapaths[ev.msg.datapath.id] = ev.msg.datapath
        self.installed = None

    def read_rule(self):
        """Returns the rule file's fields, or None if there is no rule."""
        try:
            with open(self.rule_file) as f:
                fields = f.read().split()
        except OSError:
            return None
        return fields if len(fields) == 7 else None

    def flows(self, dp, rule):
        """Returns the (match, actions) pairs that implement 'rule'."""
        parser = dp.ofproto_parser
        (client, svc_ip, svc_mac, tcp_port, target, tgt_ip, tgt_mac) = rule
        client, tcp_port, target = int(client), int(tcp_port), int(target)
        to_target = (
            parser.OFPMatch(in_port=client, eth_type=0x0800, ip_proto=6,
                            ipv4_dst=svc_ip, tcp_dst=tcp_port),
            [parser.OFPActionSetField(eth_dst=tgt_mac),
             parser.OFPActionSetField(ipv4_dst=tgt_ip),
             parser.OFPActionOutput(target)])
        from_target = (
            parser.OFPMatch(in_port=target, eth_type=0x0800, ip_proto=6,
                            ipv4_src=tgt_ip, tcp_src=tcp_port),
            [parser.OFPActionSetField(eth_src=svc_mac),
             parser.OFPActionSetField(ipv4_src=svc_ip),
             parser.OFPActionOutput(client)])
        return [to_target, from_target]

    def apply(self, dp, rule):
        """Deletes this application's flows on 'dp', then installs 'rule's
        (if any)."""
        ofp = dp.ofproto
        parser = dp.ofproto_parser
        dp.send_msg(parser.OFPFlowMod(datapath=dp, cookie=COOKIE,
                                      cookie_mask=0xffffffffffffffff,
                                      table_id=ofp.OFPTT_ALL,
                                      command=ofp.OFPFC_DELETE,
                                      out_port=ofp.OFPP_ANY,
                                      out_group=ofp.OFPG_ANY))
        if rule:
            for match, actions in self.flows(dp, rule):
                inst = [parser.OFPInstructionActions(
                    ofp.OFPIT_APPLY_ACTIONS, actions)]
                dp.send_msg(parser.OFPFlowMod(datapath=dp, cookie=COOKIE,
                                              priority=PRIORITY, match=match,
                                              instructions=inst))
        dp.send_barrier()
        self.logger.info('steering %s on %016x',
                         ' '.join(rule) if rule else 'off', dp.id)

    def watch(self):
        """Polls the rule file and keeps every switch's flows in line with
        it."""
        while True:
            rule = self.read_rule()
            if rule != self.installed and self.datapaths:
                for dp in list(self.datapaths.values()):
                    self.apply(dp, rule)
                self.installed = rule
            hub.sleep(0.1)
