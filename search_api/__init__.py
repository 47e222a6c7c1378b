"""The edufed web service: the JSON search API, the learner pages and the `edufed` command line."""
