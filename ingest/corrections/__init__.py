"""Hand corrections and answers to "Check these", in one room: the file (``file``), what a row
is (``model``), what rows mean for a clustering (``apply``), carrying them to another warehouse
(``carry``), and the one way a run reads, applies and records them (``room``)."""
