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

"""An L2 learning switch for os-ken (OpenFlow 1.3), used by the xvif tests.

Debian's python3-os-ken does not ship os-ken's sample applications
(os_ken.app.simple_switch_13 is not in the package), so the tests carry
their own learning switch.  It behaves like the classic one: a table-miss
flow sends unknown traffic to the controller; for each packet-in it learns
the source MAC on the ingress port and, once the destination is known,
installs an exact in_port/eth_src/eth_dst flow and sends the packet on;
otherwise it floods.

Every packet-in and every port-status message is also written, one line
each, to the file named by $XVIF_OSKEN_EVENTS (if set), so that a test can
check what the controller saw:

    packet-in dpid=D in_port=N eth_src=M eth_dst=M
    port-status dpid=D reason=ADD|DELETE|MODIFY port=N name=S link=up|down
"""

import os

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER
from os_ken.controller.handler import set_ev_cls
from os_ken.lib.packet import ethernet, ether_types, packet
from os_ken.ofproto import ofproto_v1_3

# Flows this application installs carry this cookie, so a test can tell
# them apart from anyone else's.
COOKIE = 0x12


class XvifL2Switch(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super(XvifL2Switch, self).__init__(*args, **kwargs)
        # MAC-to-port tables, one per datapath id.
        self.mac_to_port = {}
        self.events_file = os.environ.get('XVIF_OSKEN_EVENTS')

    def record(self, line):
        """Appends 'line' to the events file, flushed at once."""
        self.logger.info('%s', line)
        if self.events_file:
            with open(self.events_file, 'a') as f:
                f.write(line + '\n')

    def add_flow(self, dp, priority, match, actions, idle_timeout=0):
        """Installs a flow with 'actions' applied, in table 0."""
        ofp = dp.ofproto
        parser = dp.ofproto_parser
        inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS,
                                             actions)]
        dp.send_msg(parser.OFPFlowMod(datapath=dp, cookie=COOKIE,
                                      priority=priority, match=match,
                                      instructions=inst,
                                      idle_timeout=idle_timeout))

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def switch_features(self, ev):
        """A switch connected: sends whatever no flow matches to us."""
        dp = ev.msg.datapath
        ofp = dp.ofproto
        parser = dp.ofproto_parser
        self.mac_to_port[dp.id] = {}
        actions = [parser.OFPActionOutput(ofp.OFPP_CONTROLLER,
                                          ofp.OFPCML_NO_BUFFER)]
        self.add_flow(dp, 0, parser.OFPMatch(), actions)
        self.record('switch-features dpid=%016x' % dp.id)

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def packet_in(self, ev):
        """Learns the sender's port, then forwards or floods."""
        msg = ev.msg
        dp = msg.datapath
        ofp = dp.ofproto
        parser = dp.ofproto_parser
        in_port = msg.match['in_port']

        eth = packet.Packet(msg.data).get_protocols(ethernet.ethernet)[0]
        if eth.ethertype == ether_types.ETH_TYPE_LLDP:
            return
        self.record('packet-in dpid=%016x in_port=%d eth_src=%s eth_dst=%s'
                    % (dp.id, in_port, eth.src, eth.dst))

        table = self.mac_to_port.setdefault(dp.id, {})
        table[eth.src] = in_port
        out_port = table.get(eth.dst, ofp.OFPP_FLOOD)
        actions = [parser.OFPActionOutput(out_port)]
        if out_port != ofp.OFPP_FLOOD:
            match = parser.OFPMatch(in_port=in_port, eth_src=eth.src,
                                    eth_dst=eth.dst)
            self.add_flow(dp, 1, match, actions)

        data = msg.data if msg.buffer_id == ofp.OFP_NO_BUFFER else None
        dp.send_msg(parser.OFPPacketOut(datapath=dp,
                                        buffer_id=msg.buffer_id,
                                        in_port=in_port, actions=actions,
                                        data=data))

    @set_ev_cls(ofp_event.EventOFPPortStatus, MAIN_DISPATCHER)
    def port_status(self, ev):
        """Records a port-status message; a port that went away is
        forgotten."""
        msg = ev.msg
        dp = msg.datapath
        ofp = dp.ofproto
        port = msg.desc
        reason = {ofp.OFPPR_ADD: 'ADD',
                  ofp.OFPPR_DELETE: 'DELETE',
                  ofp.OFPPR_MODIFY: 'MODIFY'}.get(msg.reason, str(msg.reason))
        name = port.name
        if isinstance(name, bytes):
            name = name.decode('utf-8', 'replace')
        link = 'down' if port.state & ofp.OFPPS_LINK_DOWN else 'up'
        self.record('port-status dpid=%016x reason=%s port=%d name=%s link=%s'
                    % (dp.id, reason, port.port_no, name, link))
        if msg.reason == ofp.OFPPR_DELETE or link == 'down':
            table = self.mac_to_port.get(dp.id, {})
            for mac in [m for m, p in table.items() if p == port.port_no]:
                del table[mac]
