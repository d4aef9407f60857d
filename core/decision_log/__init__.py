"""The decision log: the one contract (contract.py) the scoring service writes (writer.py) and
monitoring, the tests and the benches read (reader.py): one JSONL file per UTC day."""
