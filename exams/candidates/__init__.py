"""The candidates behind the results: a read-only mirror of Feishu's applications
(``mirror``), the check before sending (``checks``), background lookups for pages
(``lookups``), what staff see (``display``), matching a vendor's score sheet by
email or mobile (``matching``), the worklist of candidates awaiting a result
(``worklist``) and Feishu's events that keep it current (``events``,
``long_connection``)."""
