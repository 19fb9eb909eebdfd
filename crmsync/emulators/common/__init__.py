"""What both emulators share: serving an app in a background thread, and scripted faults.

Like the emulators, it stands for the outside world and imports nothing else of crmsync.
"""
