"""Who changed what: every field change of a hub document, with before and after values."""
