"""Where weights come from: release catalogue (plain data) -> cache -> source resolution -> checkpoint files."""
