"""People: named staff, dated responsibility, roster, sign-in, day plans, tracks and coverage."""
