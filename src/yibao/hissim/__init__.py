"""``yibao his-sim``: a simulated HIS / pharmacy POS playing encounters against a server."""
