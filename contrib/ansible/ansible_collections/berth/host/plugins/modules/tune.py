#!/usr/bin/python
# -*- coding: utf-8 -*-
# The berth project has not chosen a licence yet (see the collection's LICENSE).

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: tune
short_description: Tune the host's sysctls for many connections with berth, or revert them
version_added: "0.1.0"
description:
  - Runs C(berth tune) on the target with a built-in profile (C(web), C(proxy), C(default)) and
    optional overrides, applied live through C(/proc/sys) and at boot through
    C(/etc/sysctl.d/60-berth.conf), each value with its reason. C(state=absent) runs
    C(berth tune --revert), which puts back every value berth changed.
  - C(changed) is berth's own, and a second run with the same profile and overrides changes nothing.
    Check mode is berth's C(--check); diff mode shows berth's C(--diff) (the sysctl file).
options:
  profile:
    description: The profile to apply.
    type: str
    choices: [web, proxy, default]
    default: default
  overrides:
    description:
      - sysctl keys (with dots) and values on top of the profile; the module writes them to
        I(file) as its C([sysctl]) section and passes that file to berth.
      - Without overrides, an existing I(file) written by this module is removed.
    type: dict
  file:
    description: The host file the overrides are written to.
    type: path
    default: /etc/berth/tune.ini
  force:
    description: Set the profile's values even where the current ones are higher (C(--force)).
    type: bool
    default: false
  state:
    description: C(present) applies the profile and overrides; C(absent) reverts everything berth changed.
    type: str
    choices: [present, absent]
    default: present
  lock_timeout:
    description: How long to wait for another berth holding the host lock (C(--lock-timeout)).
    type: str
extends_documentation_fragment:
  - berth.host.berth
attributes:
  check_mode:
    support: full
    description: berth's C(--check).
  diff_mode:
    support: full
    description: berth's C(--diff) (its JSON's C(diff)) and the overrides file.
'''

EXAMPLES = r'''
- name: Tune for a web server
  berth.host.tune:
    profile: web

- name: Web profile with a bigger accept queue
  berth.host.tune:
    profile: web
    overrides:
      net.core.somaxconn: 16384

- name: Put the kernel's values back
  berth.host.tune:
    state: absent
'''

RETURN = r'''
keys:
  description: berth's table, one object per key (key, before, after, changed, action, reason, origin).
  returned: always
  type: list
  elements: dict
exit_code:
  description: berth's exit code.
  returned: always
  type: int
berth:
  description: berth's whole JSON answer.
  returned: always
  type: dict
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.berth.host.plugins.module_utils.berth import (
    Berth,
    read_file,
    render_ini,
    temp_file,
    write_file,
)

MARK = '# written by the Ansible module berth.host.tune\n'


def main():
    module = AnsibleModule(
        argument_spec=dict(
            profile=dict(type='str', default='default', choices=['web', 'proxy', 'default']),
            overrides=dict(type='dict'),
            file=dict(type='path', default='/etc/berth/tune.ini'),
            force=dict(type='bool', default=False),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            lock_timeout=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    berth = Berth(module)
    changed = False
    diffs = []
    path = p['file']
    old = read_file(path)
    ours = old is not None and old.startswith(MARK)

    if p['state'] == 'absent':
        args = ['tune', '--revert']
        want = None
    else:
        args = ['tune', '--profile', p['profile']]
        want = MARK + render_ini([('sysctl', p['overrides'])]) if p['overrides'] else None
    if p['force'] and p['state'] == 'present':
        args.append('--force')
    if p['lock_timeout']:
        args += ['--lock-timeout', p['lock_timeout']]

    # the overrides file: written (or removed) before berth reads it, put back if berth refuses
    undo = None
    if want is not None and want != old:
        diffs.append({'before_header': path, 'after_header': path, 'before': old or '', 'after': want})
        changed = True
        if module.check_mode:
            args.append(temp_file(module, want, '.ini'))
        else:
            write_file(module, path, want)
            args.append(path)

            def undo():
                if old is None:
                    os.unlink(path)
                else:
                    write_file(module, path, old)
    elif want is not None:
        args.append(path)
    elif ours:
        diffs.append({'before_header': path, 'after_header': '/dev/null', 'before': old, 'after': ''})
        changed = True

    res = berth.run_mutating(args, diffs)
    if not res.ok:
        if undo:
            undo()
        berth.fail(res, changed=False)
    if ours and want is None and not module.check_mode:
        os.unlink(path)
    data = res.data or {}
    result = dict(changed=changed or res.changed, keys=data.get('keys') or [], exit_code=res.rc, berth=data)
    if diffs and module._diff:
        result['diff'] = diffs
    module.exit_json(**result)


if __name__ == '__main__':
    main()
