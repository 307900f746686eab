"""Own labels: teach the tagger classes of your own from a few labelled clips (issue 21)."""
