"""What is asked of a file and what counts as an answer: schema, prompts, evidence."""
