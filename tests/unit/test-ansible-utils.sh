#!/bin/bash
# test-ansible-utils.sh - the pure parts of the Ansible collection's module_utils/berth.py on the
# host: manifest rendering from module options, berth's failure text as the task's message, and
# one berth run per mutating call (its JSON's diff for diff mode).
# (The modules against a real berth and systemd: tests/vm/t6000-*.sh, t6100-*.sh.) TAP output.
# Needs SRCDIR from the Makefile's test environment and python3.
set -u
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
export SRCDIR
PYTHONPATH=$SRCDIR/contrib/ansible/ansible_collections/berth/host/plugins/module_utils exec python3 - <<'PY'
import json

import berth

n = 0
failed = 0


def check(title, got, want):
    global n, failed
    n += 1
    if got == want:
        print('ok %d - %s' % (n, title))
    else:
        failed += 1
        print('not ok %d - %s' % (n, title))
        print('# got:  %r' % (got,))
        print('# want: %r' % (want,))


text = berth.render_ini([
    ('service', {'name': 'api', 'args': '-listen 127.0.0.1:9000', 'restart_delay': '200ms'}),
    ('environment', {'API_MODE': 'prod', 'Mixed_Case': 'x'}),
    ('resources', {}),
    ('deploy', {'rollback': True, 'keep_releases': 3, 'watch': None}),
    ('hardening', {'read_write_paths': ['/srv/a', '/srv/b']}),
])
check('render_ini: sections in order, empty ones and None values left out, yes/no, lists', text,
      '[service]\nname = api\nargs = -listen 127.0.0.1:9000\nrestart_delay = 200ms\n\n'
      '[environment]\nAPI_MODE = prod\nMixed_Case = x\n\n'
      '[deploy]\nrollback = yes\nkeep_releases = 3\n\n'
      '[hardening]\nread_write_paths = /srv/a /srv/b\n')
try:
    berth.render_ini([('service', {'args': 'a\nExecStartPre=/bin/evil'})])
    check('render_ini refuses a newline in a value', 'accepted', 'ValueError')
except ValueError as e:
    check('render_ini refuses a newline in a value', str(e), '[service] args: a manifest value is one line')

check('render_ini quotes a value with ; or # (a comment otherwise)',
      berth.render_ini([('environment', {'A': 'x;y', 'B': 'a # b', 'C': ' pad'})]),
      '[environment]\nA = "x;y"\nB = "a # b"\nC = " pad"\n')
r = berth.BerthResult(['berth'], 6, {'rolled_back': True, 'failure': 'HTTP 503'},
                      '', 'berth: warning: something\nberth: error: release v2 failed: HTTP 503; rolled back to v1\n'
                      'last log lines of the failed start:\n  hello: stopping\n')
check('message: berth\'s error lines without the prefix, not its warnings or the journal', r.message(),
      'release v2 failed: HTTP 503; rolled back to v1')
r = berth.BerthResult(['berth'], 3, {'errors': [{'message': 'a.ini:3: [resources] memory: invalid size'}]}, '', '')
check('message: the JSON errors when stderr has none', r.message(), 'a.ini:3: [resources] memory: invalid size')
r = berth.BerthResult(['berth'], 75, None, '', '')
check('message: the exit code in words when berth said nothing', r.message(), 'berth exited 75 (temporary failure, try again)')
r = berth.BerthResult(['berth'], 6, {'rolled_back': True, 'failure': 'the service exited with status 4 during start',
                                     'sandbox': {'id': 'read-only', 'cause': 'a write outside (ProtectSystem=strict)',
                                                 'fix': 'add the path to [hardening] read_write_paths', 'line': 'x'}},
                      '', 'berth: error: release v2 failed: the service exited with status 4 during start\n')
check('message: and what the sandbox may have refused, with the fix', r.message(),
      'release v2 failed: the service exited with status 4 during start\n'
      'the sandbox may have refused it: a write outside (ProtectSystem=strict)\n'
      'fix: add the path to [hardening] read_write_paths')
check('changed: from berth\'s JSON', (berth.BerthResult([], 0, {'changed': True}, '', '').changed,
                                     berth.BerthResult([], 0, None, '', '').changed), (True, False))



class FakeModule(object):
    """What Berth uses of AnsibleModule: the berth path, the modes and run_command (recorded)."""

    def __init__(self, check_mode, diff, out):
        self.check_mode = check_mode
        self._diff = diff
        self.out = out
        self.argvs = []

    def get_bin_path(self, name, required=False, opt_dirs=None):
        return '/usr/bin/' + name

    def run_command(self, argv, environ_update=None):
        self.argvs.append(argv)
        return 0, self.out, ''


unit_diff = '--- /etc/systemd/system/a.service\n+++ /etc/systemd/system/a.service\n@@ -1 +1 @@\n-MemoryMax=1G\n+MemoryMax=2G\n'
m = FakeModule(True, True, '{"changed": true, "diff": %s}' % json.dumps(unit_diff))
diffs = []
res = berth.Berth(m).run_mutating(['deploy', 'a.ini'], diffs)
check('run_mutating in check and diff mode: one berth run, with --check --diff --json', m.argvs,
      [['/usr/bin/berth', 'deploy', 'a.ini', '--check', '--diff', '--json', '--no-color']])
check('run_mutating: the diff is berth\'s JSON "diff", as Ansible\'s prepared diff', diffs, [{'prepared': unit_diff}])
check('run_mutating: changed from the same run', res.changed, True)
m = FakeModule(False, False, '{"changed": false, "diff": null}')
diffs = []
berth.Berth(m).run_mutating(['limit', 'a', '--memory', '1G'], diffs)
check('run_mutating without check or diff mode: neither option, no diff', (m.argvs, diffs),
      ([['/usr/bin/berth', 'limit', 'a', '--memory', '1G', '--json', '--no-color']], []))
m = FakeModule(False, True, '{"changed": false, "diff": ""}')
diffs = []
berth.Berth(m).run_mutating(['tune', '--profile', 'web'], diffs)
check('run_mutating in diff mode when nothing changes: --diff, no diff entry', (m.argvs, diffs),
      ([['/usr/bin/berth', 'tune', '--profile', 'web', '--diff', '--json', '--no-color']], []))

# the modules' DOCUMENTATION, EXAMPLES and RETURN are YAML that ansible-doc must be able to read
import glob
import os
import re
try:
    import yaml
except ImportError:
    yaml = None
plugins = os.path.join(os.environ['SRCDIR'], 'contrib/ansible/ansible_collections/berth/host/plugins')
for path in sorted(glob.glob(plugins + '/modules/*.py') + glob.glob(plugins + '/doc_fragments/*.py')):
    text = open(path).read()
    for block in ('DOCUMENTATION', 'EXAMPLES', 'RETURN'):
        m = re.search(block + r" = r?'''(.*?)'''", text, re.S)
        if not m:
            continue
        title = '%s %s is YAML' % (os.path.relpath(path, plugins), block)
        if yaml is None:
            n += 1
            print('ok %d - %s # skip python3-yaml is not installed' % (n, title))
            continue
        try:
            yaml.safe_load(m.group(1))
            check(title, 'ok', 'ok')
        except yaml.YAMLError as e:
            check(title, str(e), 'ok')

print('1..%d' % n)
raise SystemExit(1 if failed else 0)
PY
