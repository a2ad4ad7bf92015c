DROP TABLE decision_effects;
