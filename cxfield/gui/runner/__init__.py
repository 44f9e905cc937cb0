"""The interview and observation runner: walking the journey step by step, the emotion
scale, notes, the survey."""
