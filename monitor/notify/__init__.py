"""Notifications: turning a change of answer into a message (Apprise does the delivery).

``settings`` is the ``[[notify]]`` config, ``tracker`` the pure state machine
that decides when a change is announced (and what counts as the same
answer), ``message`` the words, ``channels`` the URLs (expanded from the
environment, shown masked), ``deliver`` the per-channel workers that send
them and ``notifier`` the glue the service's answer job calls. Apprise is
imported by ``channels`` and ``deliver`` only when something is sent or
checked.
"""
