#!/usr/bin/python
# -*- coding: utf-8 -*-
# The berth project has not chosen a licence yet (see the collection's LICENSE).

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: service
short_description: Deploy, start, stop, roll back or remove a service with berth
version_added: "0.1.0"
description:
  - Drives C(berth) on the target host, which installs a Go service binary as a release, writes a
    hardened systemd unit with cgroup limits, starts it and waits until it is healthy, and rolls a
    release that fails its health check back to the previous one.
  - Every action is a C(berth ... --json) call on the target; the module reports what berth
    reports. C(changed) is berth's own, so a second run with the same manifest and binary reports
    no change.
  - Check mode runs berth with C(--check), which changes nothing. Diff mode shows berth's
    C(--diff) (the unit file and its drop-in, from the same berth run) and the rendered manifest.
  - A release that fails its health gate and is rolled back fails the task, with berth's reason
    and exit code 6; the previous release keeps running.
options:
  name:
    description:
      - Name of the service (the manifest's C([service] name), the unit C(NAME.service)).
    type: str
    required: true
  state:
    description:
      - C(present) deploys the manifest and binary (C(berth deploy)); this also starts a stopped
        service.
      - C(absent) stops and removes the service (C(berth remove), with C(--purge) unless
        I(purge=false)) and deletes C(/etc/berth/services/NAME.ini).
      - C(started) and C(stopped) start or stop a deployed service if it is not already so;
        with a manifest, C(started) deploys it first.
      - C(restarted) always restarts it (health-gated).
      - C(rolled_back) goes back to the previous release, or to I(version); with I(version), a
        service already on that release is left alone.
    type: str
    choices: [present, absent, started, stopped, restarted, rolled_back]
    default: present
  manifest:
    description:
      - Path of a manifest file on the target host. Mutually exclusive with the section options
        (I(service), I(environment), I(resources), I(health), I(deploy), I(go), I(hardening)),
        which the module renders to C(/etc/berth/services/NAME.ini) instead.
      - Without either, C(/etc/berth/services/NAME.ini) is used if it exists.
    type: path
  binary:
    description:
      - Path of the service binary on the target host (C(berth deploy --binary)). With the section
        options it is also written as C([service] binary), so that C(berth apply) at boot finds it.
    type: path
  version:
    description:
      - Release name for I(state=present) (C(--version); default is the first 12 hex digits of the
        binary's SHA-256), or the release to go to for I(state=rolled_back) (C(--to)).
    type: str
  service:
    description: Keys of the manifest's C([service]) section (see C(berth help manifest)), without C(name).
    type: dict
  environment:
    description: The manifest's C([environment]) section, variable names to values.
    type: dict
  resources:
    description: Keys of the manifest's C([resources]) section (cpu, memory, tasks, nofile, ...).
    type: dict
  health:
    description: Keys of the manifest's C([health]) section (http, tcp, listen, ready_timeout, ...).
    type: dict
  deploy:
    description: Keys of the manifest's C([deploy]) section (keep_releases, rollback, watch).
    type: dict
  go:
    description: Keys of the manifest's C([go]) section (gomaxprocs, gomemlimit, ...).
    type: dict
  hardening:
    description: Keys of the manifest's C([hardening]) section.
    type: dict
  limits:
    description:
      - Limits applied live to the running service with C(berth limit), without a restart; berth
        keeps them in a drop-in until the manifest changes the same limit.
    type: dict
    suboptions:
      cpu:
        description: CPU quota in percent of one CPU (C(50%), C(150%)) or C(infinity).
        type: str
      memory:
        description: Hard memory limit (C(256M)) or C(infinity).
        type: str
      memory_high:
        description: Memory throttling threshold or C(infinity).
        type: str
      swap:
        description: Swap limit, C(0) for none, or C(infinity).
        type: str
      tasks:
        description: Most processes and threads, or C(infinity).
        type: str
      force:
        description: Allow a memory limit below what the service uses now.
        type: bool
        default: false
      restart:
        description: Restart (health-gated) if the Go runtime's GOMAXPROCS or GOMEMLIMIT must follow the new limit.
        type: bool
        default: false
  purge:
    description: With I(state=absent), also delete the releases and the service's state and logs.
    type: bool
    default: true
  lock_timeout:
    description: How long deploy and limit wait for another berth holding the host lock (C(--lock-timeout)), e.g. C(60s).
    type: str
extends_documentation_fragment:
  - berth.host.berth
seealso:
  - module: berth.host.status
  - module: berth.host.tune
attributes:
  check_mode:
    support: full
    description: Through berth's C(--check); start, stop, restart, rollback and remove, which have no C(--check), are predicted from C(berth status).
  diff_mode:
    support: full
    description: berth's C(--diff) (its JSON's C(diff), the unit and its drop-in) and the rendered manifest.
'''

EXAMPLES = r'''
- name: Deploy hello from a manifest and a binary already on the host
  berth.host.service:
    name: hello
    manifest: /etc/berth/services/hello.ini
    binary: /srv/build/hello

- name: Deploy api with the manifest written from the task
  berth.host.service:
    name: api
    binary: /srv/build/api
    version: "{{ api_version }}"
    service:
      args: -listen 127.0.0.1:9000
    environment:
      API_MODE: production
    resources:
      cpu: 150%
      memory: 512M
    health:
      http: http://127.0.0.1:9000/healthz
      ready_timeout: 30s

- name: Give api more memory, live
  berth.host.service:
    name: api
    state: started
    limits:
      memory: 1G

- name: Go back to a known release
  berth.host.service:
    name: api
    state: rolled_back
    version: v41

- name: Remove hello and its releases
  berth.host.service:
    name: hello
    state: absent
'''

RETURN = r'''
name:
  description: The service.
  returned: always
  type: str
  sample: hello
version:
  description: The service's current release after the task (null if it is not deployed).
  returned: always
  type: str
  sample: 1a2b3c4d5e6f
previous_version:
  description: The release that was current before a deploy (null if none).
  returned: when state is present
  type: str
exit_code:
  description: berth's exit code (0 ok, 1 failed, 3 invalid, 5 not found, 6 rolled back, 75 try again).
  returned: always
  type: int
  sample: 0
rolled_back:
  description: The new release failed its health gate and berth put the previous one back.
  returned: failure of state=present
  type: bool
rolled_back_to:
  description: The release that runs again after a rollback.
  returned: when rolled_back
  type: str
failure:
  description: berth's reason for a failed release (e.g. the health check's answer).
  returned: when berth reports one
  type: str
sandbox:
  description: >-
    What berth's sandbox may have refused the failed start, from its log lines or exit status
    (see SANDBOX DENIALS in berth.ini(5)); the message says it too.
  returned: when berth saw a sign of it
  type: dict
  contains:
    id:
      description: Which kind (address-family, read-only, system-call, permission, namespace, ...).
      type: str
    cause:
      description: The part of the sandbox, in the unit's words.
      type: str
    fix:
      description: The manifest key that relaxes it.
      type: str
    line:
      description: The log line that shows it, or null when the exit status did.
      type: str
journal:
  description: The last journal lines of the failed start.
  returned: when rolled_back
  type: list
  elements: str
manifest:
  description: The manifest path berth was given.
  returned: when state is present, started or restarted with a manifest
  type: str
limits:
  description: berth's answer to C(berth limit --json) (limits, mismatches, restart_needed).
  returned: when limits is given
  type: dict
berth:
  description: berth's JSON answer for the main action (deploy, remove, start, ...).
  returned: always
  type: dict
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.berth.host.plugins.module_utils.berth import (
    BERTH_SERVICES_DIR,
    EXIT_NOT_FOUND,
    Berth,
    read_file,
    render_ini,
    temp_file,
    write_file,
)

SECTIONS = ('service', 'environment', 'resources', 'health', 'deploy', 'go', 'hardening')
LIMITS = ('cpu', 'memory', 'memory_high', 'swap', 'tasks')


class ServiceModule(object):
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.name = self.p['name']
        self.berth = Berth(module)
        self.changed = False
        self.result = {'name': self.name, 'exit_code': 0, 'berth': {}}
        self.diffs = []

    # --- what berth says about the service now -------------------------------------------------
    def status(self):
        """The service's entry in `berth status NAME --json`, or None if berth has no such service."""
        res = self.berth.run(['status', self.name])
        if res.rc == EXIT_NOT_FOUND:
            return None
        if not res.ok:
            self.berth.fail(res)
        services = (res.data or {}).get('services') or []
        return services[0] if services else None

    def current_version(self):
        res = self.berth.run(['releases', self.name])
        if not res.ok:
            return None
        for rel in (res.data or {}).get('releases') or []:
            if rel.get('current'):
                return rel.get('version')
        return None

    # --- the manifest -------------------------------------------------------------------------
    def sections_given(self):
        return any(self.p[s] for s in SECTIONS)

    def rendered_manifest(self):
        service = dict(self.p['service'] or {})
        if 'name' in service and service['name'] != self.name:
            self.module.fail_json(msg='service.name (%s) differs from name (%s)' % (service['name'], self.name))
        service.pop('name', None)
        if self.p['binary'] and 'binary' not in service:
            service['binary'] = self.p['binary']
        head = {'name': self.name}
        head.update(service)
        sections = [('service', head)] + [(s, self.p[s] or {}) for s in SECTIONS[1:]]
        try:
            return render_ini(sections)
        except ValueError as e:
            self.module.fail_json(msg=str(e))

    def prepare_manifest(self):
        """The manifest path for berth, and an undo for a rendered one written here.

        In check mode a rendered manifest goes to a temporary file: nothing on the host changes."""
        if self.p['manifest']:
            return self.p['manifest'], None
        path = os.path.join(BERTH_SERVICES_DIR, '%s.ini' % self.name)
        if not self.sections_given():
            if os.path.exists(path):
                return path, None
            return None, None
        text = self.rendered_manifest()
        old = read_file(path)
        if old == text:
            return path, None
        self.diffs.append({'before_header': path, 'after_header': path, 'before': old or '', 'after': text})
        self.changed = True
        if self.module.check_mode:
            return temp_file(self.module, text, '.ini'), None
        write_file(self.module, path, text)

        def undo():
            if old is None:
                os.unlink(path)
            else:
                write_file(self.module, path, old)
        return path, undo

    # --- the states ---------------------------------------------------------------------------
    def deploy(self):
        """berth deploy; True if the service was (re)started by it."""
        manifest, undo = self.prepare_manifest()
        if manifest is None:
            self.module.fail_json(msg='state=%s needs manifest, the section options, or %s/%s.ini'
                                  % (self.p['state'], BERTH_SERVICES_DIR, self.name))
        self.result['manifest'] = manifest
        args = ['deploy', manifest]
        if self.p['binary']:
            args += ['--binary', self.p['binary']]
        if self.p['version']:
            args += ['--version', self.p['version']]
        if self.p['lock_timeout']:
            args += ['--lock-timeout', self.p['lock_timeout']]
        res = self.berth.run_mutating(args, self.diffs)
        self.result['berth'] = res.data or {}
        if not res.ok:
            if undo:
                undo()
            self.berth.fail(res, name=self.name, changed=False,
                            version=(res.data or {}).get('rolled_back_to') or (res.data or {}).get('previous_version'))
        data = res.data or {}
        self.result['previous_version'] = data.get('previous_version')
        self.result['ready_msec'] = data.get('ready_msec')
        self.changed = self.changed or res.changed
        return any(s.get('step') == 'start' and s.get('changed') for s in data.get('steps') or [])

    def control(self, verb):
        """berth start/stop/restart NAME."""
        if self.module.check_mode:
            self.changed = True
            return
        res = self.berth.run([verb, self.name])
        self.result['berth'] = res.data or {}
        if not res.ok:
            self.berth.fail(res, name=self.name, changed=self.changed)
        self.changed = True

    def limits(self, deployed_now):
        want = self.p['limits']
        args = ['limit', self.name]
        for k in LIMITS:
            if want.get(k) is not None:
                args += ['--%s' % k.replace('_', '-'), str(want[k])]
        if len(args) == 2:
            return
        if want.get('force'):
            args.append('--force')
        if want.get('restart'):
            args.append('--restart')
        if self.p['lock_timeout']:
            args += ['--lock-timeout', self.p['lock_timeout']]
        res = self.berth.run_mutating(args, self.diffs)
        if res.rc == EXIT_NOT_FOUND and self.module.check_mode and deployed_now:
            self.changed = True  # not deployed yet: the deploy this check predicts comes first
            return
        self.result['limits'] = res.data or {}
        if not res.ok:
            self.berth.fail(res, name=self.name, changed=self.changed)
        self.changed = self.changed or res.changed

    def absent(self):
        path = os.path.join(BERTH_SERVICES_DIR, '%s.ini' % self.name)
        old = read_file(path)
        if old is not None:
            self.diffs.append({'before_header': path, 'after_header': '/dev/null', 'before': old, 'after': ''})
            self.changed = True
        if self.status() is not None or (self.p['purge'] and self.current_version() is not None):
            self.changed = True
            if not self.module.check_mode:
                args = ['remove', self.name] + (['--purge'] if self.p['purge'] else [])
                res = self.berth.run(args)
                self.result['berth'] = res.data or {}
                if not res.ok:
                    self.berth.fail(res, name=self.name, changed=False)
        if old is not None and not self.module.check_mode:
            os.unlink(path)

    def rolled_back(self):
        current = self.current_version()
        if current is None:
            res = self.berth.run(['releases', self.name])
            self.berth.fail(res, name=self.name, changed=False)
        if self.p['version'] and current == self.p['version']:
            return
        self.changed = True
        if self.module.check_mode:
            return
        args = ['rollback', self.name]
        if self.p['version']:
            args += ['--to', self.p['version']]
        res = self.berth.run(args)
        self.result['berth'] = res.data or {}
        if not res.ok:
            self.berth.fail(res, name=self.name, changed=bool((res.data or {}).get('changed')))

    def run(self):
        state = self.p['state']
        has_manifest = bool(self.p['manifest'] or self.sections_given())
        deployed_now = False
        if state == 'absent':
            self.absent()
        elif state == 'rolled_back':
            self.rolled_back()
        elif state == 'present' or (state in ('started', 'restarted') and has_manifest):
            restarted = self.deploy()
            deployed_now = self.changed
            if state == 'restarted' and not restarted:
                self.control('restart')
        elif state == 'started':
            st = self.status()
            if st is None:
                self.berth.fail(self.berth.run(['status', self.name]), name=self.name, changed=False)
            if st.get('active_state') != 'active':
                self.control('start')
        elif state == 'stopped':
            st = self.status()
            if st is None:
                self.berth.fail(self.berth.run(['status', self.name]), name=self.name, changed=False)
            if st.get('active_state') not in ('inactive', 'failed'):
                self.control('stop')
        elif state == 'restarted':
            self.control('restart')
        if self.p['limits'] and state not in ('absent', 'stopped'):
            self.limits(deployed_now)

        self.result['version'] = None if state == 'absent' and not self.module.check_mode else self.current_version()
        self.result['changed'] = self.changed
        if self.diffs and self.module._diff:
            self.result['diff'] = self.diffs
        self.module.exit_json(**self.result)


def main():
    section = dict(type='dict')
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            state=dict(type='str', default='present',
                       choices=['present', 'absent', 'started', 'stopped', 'restarted', 'rolled_back']),
            manifest=dict(type='path'),
            binary=dict(type='path'),
            version=dict(type='str'),
            service=section,
            environment=section,
            resources=section,
            health=section,
            deploy=section,
            go=section,
            hardening=section,
            limits=dict(type='dict', options=dict(
                cpu=dict(type='str'),
                memory=dict(type='str'),
                memory_high=dict(type='str'),
                swap=dict(type='str'),
                tasks=dict(type='str'),
                force=dict(type='bool', default=False),
                restart=dict(type='bool', default=False),
            )),
            purge=dict(type='bool', default=True),
            lock_timeout=dict(type='str'),
        ),
        mutually_exclusive=[('manifest', s) for s in SECTIONS],
        supports_check_mode=True,
    )
    ServiceModule(module).run()


if __name__ == '__main__':
    main()
