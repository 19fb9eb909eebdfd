"""What both emulators share: serving an app in a background thread, scripted faults, and the
state file.

Like the emulators, it stands for the outside world and imports nothing else of crmsync.
"""
