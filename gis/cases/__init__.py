"""Cases: the workflow state machine, violation categories and the intake of reports."""
