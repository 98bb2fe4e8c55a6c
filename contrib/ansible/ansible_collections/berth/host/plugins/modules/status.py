#!/usr/bin/python
# -*- coding: utf-8 -*-
# The berth project has not chosen a licence yet (see the collection's LICENSE).

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: status
short_description: Services, releases and health as berth reports them
version_added: "0.1.0"
description:
  - Runs C(berth status --json) and, for each service, C(berth releases --json) on the target and
    returns what they say. Changes nothing.
options:
  names:
    description: The services to report; all of berth's services if empty.
    type: list
    elements: str
    default: []
    aliases: [name]
  releases:
    description: Also list each service's installed releases.
    type: bool
    default: true
extends_documentation_fragment:
  - berth.host.berth
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
'''

EXAMPLES = r'''
- name: What runs here
  berth.host.status:
  register: berth

- name: Fail unless hello is healthy
  ansible.builtin.assert:
    that: berth.services.hello.health.healthy
'''

RETURN = r'''
services:
  description:
    - Each service by name, as in C(berth status --json) (active_state, release, ready_msec,
      health with healthy and reason, memory and CPU read-back, ...), plus C(releases) (as in
      C(berth releases --json)) when I(releases) is true.
  returned: always
  type: dict
  sample: {"hello": {"active_state": "active", "release": "1a2b3c4d5e6f", "health": {"healthy": true}}}
healthy:
  description: Every reported service is active and its health check passes.
  returned: always
  type: bool
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.berth.host.plugins.module_utils.berth import Berth


def main():
    module = AnsibleModule(
        argument_spec=dict(
            names=dict(type='list', elements='str', default=[], aliases=['name']),
            releases=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    berth = Berth(module)
    res = berth.run(['status'] + module.params['names'])
    if not res.ok:
        berth.fail(res, changed=False)
    services = {}
    for s in (res.data or {}).get('services') or []:
        services[s.get('name')] = s
        if module.params['releases']:
            rel = berth.run(['releases', s.get('name')])
            if not rel.ok:
                berth.fail(rel, changed=False)
            s['releases'] = (rel.data or {}).get('releases') or []
    healthy = all(s.get('active_state') == 'active' and (s.get('health') or {}).get('healthy', True)
                  for s in services.values())
    module.exit_json(changed=False, services=services, healthy=healthy)


if __name__ == '__main__':
    main()
