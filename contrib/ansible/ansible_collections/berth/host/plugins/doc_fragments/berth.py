# -*- coding: utf-8 -*-
# What every berth.host module's documentation shares.
# The berth project has not chosen a licence yet (see the collection's LICENSE).

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r'''
options: {}
requirements:
  - berth on the target host (Debian package C(berth)); the modules run C(berth ... --json) there
author:
  - berth developers (@berth)
notes:
  - berth's exit codes are in C(man 8 berth) (0 ok, 1 failed, 2 usage, 3 invalid, 4 not root,
    5 not found, 6 rolled back, 75 try again); a failed task's C(exit_code) is berth's.
'''
