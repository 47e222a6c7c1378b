"""The harvesters: fetch course metadata from each platform politely and hand raw records to the indexer."""
