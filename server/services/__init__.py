"""Domain services: the rules of the office, independent of Flask and Socket.IO."""
