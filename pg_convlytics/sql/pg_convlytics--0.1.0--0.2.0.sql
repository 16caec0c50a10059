-- pg_convlytics 0.1.0 -> 0.2.0 (ALTER EXTENSION pg_convlytics UPDATE TO '0.2.0').
--
-- JSON results are jsonb: detect_pii, extract_entities, resolution_explain, sentiment_explain,
-- tones, and classify_intent_explain's evidence column. A function's result type cannot be
-- changed in place, so each is dropped and created again on its 0.2.0 entry point; a view or
-- function of yours that calls one of them must be dropped before the update and created again
-- after it (PostgreSQL refuses the update otherwise, and changes nothing).
-- New: convlytics_functions(), the function catalogue.
-- Registered taxonomies (convlytics.taxonomies) are kept as they are.

DROP FUNCTION "classify_intent_explain"(TEXT, TEXT);
DROP FUNCTION "detect_pii"(TEXT);
DROP FUNCTION "detect_pii"(TEXT, TEXT);
DROP FUNCTION "extract_entities"(TEXT);
DROP FUNCTION "extract_entities"(TEXT, TEXT);
DROP FUNCTION "resolution_explain"(TEXT[], TEXT[]);
DROP FUNCTION "resolution_explain"(TEXT[], TEXT[], TEXT);
DROP FUNCTION "sentiment_explain"(TEXT);
DROP FUNCTION "tones"(TEXT);

CREATE  FUNCTION "classify_intent_explain"(
	"text" TEXT, /* & str */
	"taxonomy" TEXT /* & str */
) RETURNS TABLE (
	"label" TEXT,  /* String */
	"confidence" double precision,  /* f64 */
	"runner_up" TEXT,  /* Option < String > */
	"runner_up_confidence" double precision,  /* Option < f64 > */
	"method" TEXT,  /* String */
	"evidence" jsonb,  /* pgrx :: JsonB */
	"taxonomy_version" TEXT  /* String */
)
STRICT STABLE PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'classify_intent_explain_json_wrapper';

CREATE  FUNCTION "detect_pii"(
	"text" TEXT /* & str */
) RETURNS jsonb /* pgrx :: JsonB */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'detect_pii_json_wrapper';

CREATE  FUNCTION "detect_pii"(
	"text" TEXT, /* & str */
	"policy" TEXT /* & str */
) RETURNS jsonb /* pgrx :: JsonB */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'detect_pii_with_policy_json_wrapper';

CREATE  FUNCTION "extract_entities"(
	"text" TEXT /* & str */
) RETURNS jsonb /* pgrx :: JsonB */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'extract_entities_json_wrapper';

CREATE  FUNCTION "extract_entities"(
	"text" TEXT, /* & str */
	"taxonomy" TEXT /* & str */
) RETURNS jsonb /* pgrx :: JsonB */
STRICT STABLE PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'extract_entities_with_taxonomy_json_wrapper';

CREATE  FUNCTION "resolution_explain"(
	"roles" TEXT[], /* Turns < '_ > */
	"texts" TEXT[] /* Turns < '_ > */
) RETURNS jsonb /* pgrx :: JsonB */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'resolution_explain_json_wrapper';

CREATE  FUNCTION "resolution_explain"(
	"roles" TEXT[], /* Turns < '_ > */
	"texts" TEXT[], /* Turns < '_ > */
	"taxonomy" TEXT /* & str */
) RETURNS jsonb /* pgrx :: JsonB */
STRICT STABLE PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'resolution_explain_with_taxonomy_json_wrapper';

CREATE  FUNCTION "sentiment_explain"(
	"text" TEXT /* & str */
) RETURNS jsonb /* pgrx :: JsonB */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'sentiment_explain_json_wrapper';

CREATE  FUNCTION "tones"(
	"text" TEXT /* & str */
) RETURNS jsonb /* pgrx :: JsonB */
IMMUTABLE STRICT PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'tones_json_wrapper';

CREATE  FUNCTION "convlytics_functions"() RETURNS TABLE (
	"name" TEXT,  /* String */
	"arguments" TEXT,  /* String */
	"returns" TEXT,  /* String */
	"volatility" TEXT,  /* String */
	"strict" bool,  /* bool */
	"parallel_safe" bool,  /* bool */
	"summary" TEXT  /* String */
)
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'convlytics_functions_wrapper';
