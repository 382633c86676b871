"""One module per report section: each turns part of a Decision into formatted tables."""
