"""The demo corpus: labelled short videos synthesized from face photos."""
