"""Tagging archives as a resumable job: a journal, atomic Parquet parts, sound events and review formats."""
