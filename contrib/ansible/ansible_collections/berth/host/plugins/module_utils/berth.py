# -*- coding: utf-8 -*-
# Shared by the berth.host modules: run berth on the target with --json and turn its answer
# into Ansible's terms. Nothing here decides what berth would do; berth does.
#
# The berth project has not chosen a licence yet (see the collection's LICENSE).

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile

# berth's exit codes (berth(8), EXIT STATUS)
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INVALID = 3
EXIT_PERMISSION = 4
EXIT_NOT_FOUND = 5
EXIT_ROLLED_BACK = 6
EXIT_TEMPFAIL = 75

EXIT_NAMES = {
    EXIT_OK: 'ok',
    EXIT_FAILURE: 'failed',
    EXIT_USAGE: 'usage error',
    EXIT_INVALID: 'invalid input, nothing changed',
    EXIT_PERMISSION: 'must run as root',
    EXIT_NOT_FOUND: 'not found',
    EXIT_ROLLED_BACK: 'rolled back',
    EXIT_TEMPFAIL: 'temporary failure, try again',
}

BERTH_SERVICES_DIR = '/etc/berth/services'


class BerthResult(object):
    """One berth run: its exit code, its JSON object (or None) and its stderr text."""

    def __init__(self, argv, rc, data, stdout, stderr):
        self.argv = argv
        self.rc = rc
        self.data = data
        self.stdout = stdout
        self.stderr = stderr

    @property
    def ok(self):
        return self.rc == EXIT_OK

    @property
    def changed(self):
        return bool(self.data and self.data.get('changed'))

    def message(self):
        """berth's own words for a failure: its error lines, else the JSON's; and what the
        sandbox may have refused the service, when berth saw that."""
        msg = self._message()
        sandbox = (self.data or {}).get('sandbox')
        if sandbox:
            msg += '\nthe sandbox may have refused it: %s\nfix: %s' % (sandbox.get('cause'), sandbox.get('fix'))
        return msg

    def _message(self):
        lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
        errors = [ln[len('berth: error: '):] for ln in lines if ln.startswith('berth: error: ')]
        if errors:
            return '\n'.join(errors)
        data = self.data or {}
        msgs = [e.get('message') for e in data.get('errors') or [] if e.get('message')]
        if data.get('failure'):
            msgs.append(data['failure'])
        if msgs:
            return '\n'.join(msgs)
        if lines:
            return '\n'.join(lines)
        return 'berth exited %d (%s)' % (self.rc, EXIT_NAMES.get(self.rc, 'unknown exit code'))


class Berth(object):
    def __init__(self, module):
        self.module = module
        self.path = module.get_bin_path('berth', required=True, opt_dirs=['/usr/sbin', '/usr/local/bin'])
        self.runs = []

    def run(self, args, json_output=True):
        """Runs berth ARGS [--json]; returns a BerthResult. Never fails the module itself."""
        argv = [self.path] + list(args)
        if json_output:
            argv.append('--json')
        argv.append('--no-color')
        rc, out, err = self.module.run_command(argv, environ_update={'NO_COLOR': '1', 'LC_ALL': 'C.UTF-8'})
        data = None
        if json_output and out.strip():
            try:
                data = json.loads(out)
            except ValueError:
                # `berth logs --json` prints one object per line: the last one is the summary
                try:
                    data = json.loads(out.strip().splitlines()[-1])
                except ValueError:
                    data = None
        self.runs.append({'argv': argv, 'rc': rc})
        return BerthResult(argv, rc, data, out, err)

    def run_mutating(self, args, diffs):
        """berth ARGS for a command with --check and --diff, in one run: in check mode with --check
        (nothing changes); in diff mode with --diff, whose text (the unit, drop-in or sysctl file
        diff) berth's JSON carries in "diff", added to diffs."""
        args = list(args)
        if self.module.check_mode:
            args.append('--check')
        if self.module._diff:
            args.append('--diff')
        res = self.run(args)
        diff = (res.data or {}).get('diff')
        if self.module._diff and diff:
            diffs.append({'prepared': diff})
        return res

    def fail(self, res, **extra):
        """Fails the task with berth's message and exit code (and the rollback's reason)."""
        data = res.data or {}
        msg = res.message()
        extra.setdefault('rc', res.rc)
        extra.setdefault('exit_code', res.rc)
        extra.setdefault('berth', data)
        extra.setdefault('stderr', res.stderr)
        extra.setdefault('cmd', res.argv)
        if data.get('sandbox'):
            extra['sandbox'] = data['sandbox']
        if data.get('rolled_back'):
            extra['rolled_back'] = True
            extra['rolled_back_to'] = data.get('rolled_back_to')
            extra['failure'] = data.get('failure')
            extra['journal'] = data.get('journal') or []
        self.module.fail_json(msg=msg, **extra)


def ini_value(value):
    """A manifest value from a YAML one: booleans as yes/no, lists space-separated."""
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, (list, tuple)):
        return ' '.join(ini_value(v) for v in value)
    return str(value)


def render_ini(sections):
    """INI text from [(section, {key: value})] in order; keys keep their order."""
    out = []
    for section, keys in sections:
        if not keys:
            continue
        if out:
            out.append('')
        out.append('[%s]' % section)
        for key, value in keys.items():
            if value is None:
                continue
            text = ini_value(value)
            if '\n' in text or '\r' in text:
                raise ValueError('[%s] %s: a manifest value is one line' % (section, key))
            # ; and # start a comment unless quoted (berth.ini(5)); so do surrounding blanks
            if any(c in text for c in ';#') or text != text.strip():
                if '"' in text:
                    raise ValueError('[%s] %s: a value with ; or # or surrounding blanks cannot also hold "'
                                     % (section, key))
                text = '"%s"' % text
            out.append('%s = %s' % (key, text))
    return '\n'.join(out) + '\n'


def read_file(path):
    try:
        with open(path, 'rb') as f:
            return f.read().decode('utf-8', 'replace')
    except (IOError, OSError):
        return None


def write_file(module, path, text, mode=0o644):
    """Writes text to path atomically (temporary file in the same directory, then rename)."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.%s.' % os.path.basename(path))
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(text.encode('utf-8'))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        module.atomic_move(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def temp_file(module, text, suffix):
    """A file in the module's temporary directory (removed with it), for --check runs."""
    fd, path = tempfile.mkstemp(dir=module.tmpdir, suffix=suffix)
    with os.fdopen(fd, 'wb') as f:
        f.write(text.encode('utf-8'))
    return path
