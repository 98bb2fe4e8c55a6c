/* control.h - start, stop and restart a managed service, waiting for the job's result */
#pragma once

/* method: "StartUnit", "StopUnit", "RestartUnit". Takes the lock, runs the job, reports the
 * result (human or JSON) and returns a BERTH_EXIT_* code. */
int control_service(const char *command, const char *name, const char *method);
