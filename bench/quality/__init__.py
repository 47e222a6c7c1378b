"""edufed's relevance and catalogue-quality suite: a labelled corpus, graded judgements, measures and floors."""
