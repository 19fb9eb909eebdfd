"""What both emulators share: serving an app in a background thread, scripted faults, the
state file and the clock.

Like the emulators, it stands for the outside world and imports nothing else of crmsync.
"""
