"""What model-written SQL may call and contain: the SQL guard's allowlists, as data.

- Functions: typed sqlglot nodes in `ALLOWED_FUNC_TYPES` (aggregates, window, date/time,
  string, math, array, jsonb accessors, casts, CASE/COALESCE...) and, for functions sqlglot
  leaves as `exp.Anonymous`, the names in `ALLOWED_FUNCTION_NAMES`.
- `SESSION_WORDS`: bare words PostgreSQL evaluates as functions (current_user, ...), refused.
- `STATEMENT_NODES`: nodes that make a statement something other than a read query.
"""

from __future__ import annotations

from sqlglot import exp

ALLOWED_FUNC_TYPES: tuple[type[exp.Expr], ...] = (
    # aggregates
    exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max, exp.ArrayAgg, exp.GroupConcat,  # string_agg
    exp.LogicalAnd, exp.LogicalOr,  # bool_and / bool_or
    exp.Stddev, exp.StddevPop, exp.StddevSamp, exp.Variance, exp.VariancePop,
    exp.Corr, exp.CovarPop, exp.CovarSamp, exp.RegrSlope,
    exp.PercentileCont, exp.PercentileDisc, exp.Mode,
    exp.JSONBObjectAgg, exp.JSONObjectAgg, exp.JSONArrayAgg, exp.Grouping,
    # window functions
    exp.RowNumber, exp.Rank, exp.DenseRank, exp.PercentRank, exp.CumeDist, exp.Ntile,
    exp.Lag, exp.Lead, exp.FirstValue, exp.LastValue, exp.NthValue,
    # date / time (now() is CurrentTimestamp, date_part() is Extract, to_char() is TimeToStr,
    # to_date() StrToDate, to_timestamp() StrToTime / UnixToTime, date_trunc() TimestampTrunc)
    exp.CurrentTimestamp, exp.CurrentDate, exp.CurrentTime, exp.Localtimestamp, exp.Localtime,
    exp.TimestampTrunc, exp.DateTrunc, exp.Extract, exp.MakeInterval, exp.TimeToStr,
    exp.StrToDate, exp.StrToTime, exp.UnixToTime, exp.ToNumber, exp.DateBin,
    exp.TimestampFromParts, exp.Date,
    # strings (position()/strpos() are StrPosition, lpad/rpad Pad, btrim/ltrim/rtrim Trim)
    exp.Lower, exp.Upper, exp.Initcap, exp.Length, exp.Substring, exp.Trim, exp.Concat,
    exp.ConcatWs, exp.Replace, exp.SplitPart, exp.StrPosition, exp.Left, exp.Right, exp.Pad,
    exp.StartsWith, exp.RegexpReplace, exp.RegexpLike, exp.RegexpILike, exp.Reverse,
    exp.Translate, exp.MD5, exp.Chr, exp.Ascii,
    # conditionals
    exp.Coalesce, exp.Nullif, exp.Greatest, exp.Least, exp.Case, exp.If, exp.Exists,
    # math (random() is Rand)
    exp.Round, exp.Floor, exp.Ceil, exp.Abs, exp.Pow, exp.Sqrt, exp.Cbrt, exp.Ln, exp.Log,
    exp.Exp, exp.Sign, exp.Trunc, exp.WidthBucket, exp.Rand, exp.Pi,
    # casts
    exp.Cast,
    # arrays (array_length() is ArraySize, unnest() Explode / Unnest, array_cat() ArrayConcat)
    exp.Array, exp.ArraySize, exp.Explode, exp.Unnest, exp.ArrayToString, exp.StringToArray,
    exp.ArrayPosition, exp.ArrayRemove, exp.ArrayAppend, exp.ArrayPrepend, exp.ArrayConcat,
    exp.ArrayContains, exp.ArrayContainsAll, exp.ArrayContainedBy, exp.ArrayOverlaps,
    # jsonb accessors
    exp.JSONExtract, exp.JSONExtractScalar, exp.JSONBExtract, exp.JSONBExtractScalar,
    exp.JSONBContains, exp.JSONBContainsTopKey, exp.JSONBContainsAnyTopKeys,
    exp.JSONBContainsAllTopKeys,
    # series (bounded by the statement timeout)
    exp.GenerateSeries, exp.ExplodingGenerateSeries,
)  # fmt: skip

# Names for calls sqlglot leaves as exp.Anonymous (lower case). Also lists the common
# names above, in case sqlglot keeps one of them anonymous for some argument shape.
ALLOWED_FUNCTION_NAMES: frozenset[str] = frozenset(
    {
        "count", "sum", "avg", "min", "max", "array_agg", "string_agg", "bool_and", "bool_or", "every", "stddev",
    "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp", "corr", "covar_pop", "covar_samp",
    "regr_slope", "regr_intercept", "regr_r2", "regr_count", "percentile_cont", "percentile_disc", "mode",
    "jsonb_object_agg", "json_object_agg", "jsonb_agg", "json_agg", "grouping", "row_number", "rank",
    "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value", "last_value", "nth_value",
    "now", "current_date", "current_timestamp", "localtimestamp", "date_trunc", "date_part", "extract", "age",
    "make_interval", "make_date", "make_timestamp", "to_char", "to_date", "to_timestamp", "to_number",
    "date_bin", "justify_days", "justify_hours", "justify_interval", "isfinite", "lower", "upper", "initcap",
    "length", "char_length", "character_length", "octet_length", "substring", "substr", "trim", "btrim",
    "ltrim", "rtrim", "lpad", "rpad", "concat", "concat_ws", "replace", "split_part", "position", "strpos",
    "left", "right", "reverse", "translate", "starts_with", "md5", "chr", "ascii", "regexp_replace",
    "regexp_match", "regexp_matches", "regexp_like", "regexp_split_to_array", "regexp_split_to_table",
    "coalesce", "nullif", "greatest", "least", "round", "floor", "ceil", "ceiling", "abs", "power", "pow",
    "sqrt", "cbrt", "ln", "log", "log10", "exp", "mod", "div", "sign", "trunc", "width_bucket", "random", "pi",
    "degrees", "radians", "scale", "gcd", "lcm", "num_nulls", "num_nonnulls", "array_length", "unnest",
    "cardinality", "array_to_string", "string_to_array", "array_position", "array_positions", "array_remove",
    "array_replace", "array_append", "array_prepend", "array_cat", "array_upper", "array_lower", "array_dims",
    "any", "all", "row", "jsonb_each", "jsonb_each_text", "jsonb_object_keys", "jsonb_array_elements",
    "jsonb_array_elements_text", "jsonb_array_length", "jsonb_typeof", "jsonb_extract_path",
    "jsonb_extract_path_text", "jsonb_build_object", "jsonb_build_array", "jsonb_strip_nulls", "to_jsonb", "row_to_json",
    "json_build_object", "to_json", "generate_series",
    }
)  # fmt: skip

# Bare words PostgreSQL evaluates as functions (sqlglot parses some as plain columns).
SESSION_WORDS = frozenset({"user", "current_user", "session_user", "current_role", "system_user", "current_catalog"})

# Nodes that make a statement something other than a read query.
STATEMENT_NODES: tuple[type[exp.Expr], ...] = (
    exp.DML, exp.DDL, exp.Drop, exp.Alter, exp.TruncateTable, exp.Grant, exp.Revoke,
    exp.Command, exp.Set, exp.Transaction, exp.Commit, exp.Rollback, exp.Analyze,
    exp.Describe, exp.Show, exp.Use, exp.Kill, exp.Pragma, exp.Declare, exp.Cache,
    exp.Refresh, exp.Comment, exp.Returning,
)  # fmt: skip

READ_QUERY = (exp.Select, exp.SetOperation, exp.Subquery)

FUNCTION_HINT = (
    "use aggregates, window functions or date/time, string, math, array and jsonb functions "
    "(e.g. count, sum, date_trunc, lower, round, unnest, jsonb_each)"
)
