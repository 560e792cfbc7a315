"""Class-sized requests (``user: 120 students``): the rule (rule.py), one round of it for
either backend (round.py), its phases (phase.py), its metrics and its event-report track."""
