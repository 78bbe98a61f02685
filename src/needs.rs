//! `--needs`: one alert for a whole workflow (docs/noise-control.md, "One alert for a whole workflow"). A final
//! job passes `${{ toJSON(needs) }}`, the results of the jobs it needs, and the status of the
//! alert is computed from them. Pure: text in, a verdict out; the caller turns errors into
//! configuration errors naming `--needs`.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

use crate::status::Status;

/// One needed job, as `toJSON(needs)` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// The job id (the key under `jobs:`), not its display name.
    pub id: String,
    pub result: Status,
}

/// The needed jobs, in the order the JSON lists them (GitHub lists them as `needs:` does).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Needs {
    pub jobs: Vec<Job>,
}

/// What the needed jobs say about the workflow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeedsVerdict {
    pub status: Status,
    /// Ids of the jobs whose result is `failure`.
    pub failed_jobs: Vec<String>,
    /// Ids of skipped jobs not in `--allowed-skips`, when they alone made the status a failure.
    pub skipped_jobs: Vec<String>,
    pub warnings: Vec<String>,
}

/// How the manual (docs/noise-control.md) tells people to pass the option, for error messages.
const HOW: &str = "pass needs: ${{ toJSON(needs) }} from a job that lists the others in its needs:";

/// Parses `toJSON(needs)`: a non-empty object of job id → `{"result": …, "outputs": {…}}`.
/// `toJSON` pretty-prints, so this is JSON over several lines, never a line format.
pub fn parse(text: &str) -> Result<Needs, String> {
    if !text.trim_start().starts_with('{') {
        // Checked first so that serde's message, which quotes what it found, never echoes input.
        return Err(format!("is not a JSON object of jobs; {HOW}"));
    }
    let Entries(entries) = serde_json::from_str(text).map_err(|e| format!("is not valid JSON ({e}); {HOW}"))?;
    if entries.is_empty() {
        return Err(format!(
            "is an empty object: the job running onfail needs no other job, so there is nothing to judge the \
             workflow by; {HOW}"
        ));
    }
    let mut jobs: Vec<Job> = Vec::with_capacity(entries.len());
    for (id, entry) in entries {
        if !is_job_id(&id) {
            return Err(format!(
                "'{}' is not a job id (a letter or _, then letters, digits, - or _); {HOW}",
                shorten(&id)
            ));
        }
        if jobs.iter().any(|job| job.id == id) {
            return Err(format!("lists job {id} twice; {HOW}"));
        }
        let result = entry
            .get("result")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| format!("job {id} has no result (a string: success, failure, cancelled or skipped)"))?;
        let result = result.parse::<Status>().map_err(|_| {
            format!("job {id} has result '{}'; a result is success, failure, cancelled or skipped", shorten(result))
        })?;
        jobs.push(Job { id, result });
    }
    Ok(Needs { jobs })
}

/// Splits `--allowed-skips`: job ids separated by commas (whitespace around them ignored).
pub fn parse_list(text: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for id in text.split(',').map(str::trim).filter(|id| !id.is_empty()) {
        if !ids.iter().any(|known| known == id) {
            ids.push(id.to_string());
        }
    }
    ids
}

impl Needs {
    /// The workflow's status: any failure → failure; else any cancelled → cancelled; else any
    /// skipped job not in `allowed_skips` → failure, with a warning naming it; else success.
    pub fn verdict(&self, allowed_skips: &[String]) -> NeedsVerdict {
        let ids_with = |result: Status| -> Vec<String> {
            self.jobs.iter().filter(|job| job.result == result).map(|job| job.id.clone()).collect()
        };
        let failed_jobs = ids_with(Status::Failure);
        let unlisted_skips: Vec<String> =
            ids_with(Status::Skipped).into_iter().filter(|id| !allowed_skips.contains(id)).collect();
        let mut warnings: Vec<String> = allowed_skips
            .iter()
            .filter(|id| !self.jobs.iter().any(|job| &job.id == *id))
            .map(|id| format!("--allowed-skips names job {id}, which is not in --needs; check the job id"))
            .collect();
        let (status, skipped_jobs) = if !failed_jobs.is_empty() {
            (Status::Failure, Vec::new())
        } else if self.jobs.iter().any(|job| job.result == Status::Cancelled) {
            (Status::Cancelled, Vec::new())
        } else if !unlisted_skips.is_empty() {
            warnings.extend(unlisted_skips.iter().map(|id| {
                format!(
                    "job {id} was skipped, which counts as a failure; list every job in needs: or allow the skip \
                     with --allowed-skips {id}"
                )
            }));
            (Status::Failure, unlisted_skips)
        } else {
            (Status::Success, Vec::new())
        };
        NeedsVerdict { status, failed_jobs, skipped_jobs, warnings }
    }
}

/// GitHub's rule for job ids: a letter or `_`, then letters, digits, `-` or `_`.
fn is_job_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// At most 40 characters of a value quoted in an error, with control characters blanked.
fn shorten(value: &str) -> String {
    let clean = crate::redact::blank_controls(value);
    match crate::values::truncate_chars(&clean, 40) {
        (cut, true) => format!("{cut}…"),
        (whole, false) => whole,
    }
}

/// The top-level object's entries in document order (serde_json's map would sort them).
struct Entries(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Entries, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of jobs")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(InOrder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `toJSON(needs)` as GitHub writes it: pretty-printed, with outputs.
    fn needs_json(jobs: &[(&str, &str)]) -> String {
        let entries: Vec<String> = jobs
            .iter()
            .map(|(id, result)| format!("  \"{id}\": {{\n    \"result\": \"{result}\",\n    \"outputs\": {{}}\n  }}"))
            .collect();
        format!("{{\n{}\n}}", entries.join(",\n"))
    }

    /// Results, allowed skips; then the status, failed jobs, skipped jobs, and for each warning
    /// words it must contain.
    type Row = (&'static [(&'static str, &'static str)], &'static str, Status, Ids, Ids, Ids);
    type Ids = &'static [&'static str];

    #[test]
    fn the_rule_of_the_readme_row_by_row() {
        use Status::*;
        let table: &[Row] = &[
            (&[("build", "success"), ("test", "success")], "", Success, &[], &[], &[]),
            (&[("build", "success"), ("test", "failure")], "", Failure, &["test"], &[], &[]),
            (&[("build", "failure"), ("test", "failure")], "", Failure, &["build", "test"], &[], &[]),
            // A failure outranks a cancel; a cancel outranks an unlisted skip.
            (&[("build", "cancelled"), ("test", "failure")], "", Failure, &["test"], &[], &[]),
            (&[("build", "cancelled"), ("test", "success")], "", Cancelled, &[], &[], &[]),
            (&[("build", "cancelled"), ("deploy", "skipped")], "", Cancelled, &[], &[], &[]),
            // A job skipped after a failure is the failure's doing: no warning about it.
            (&[("build", "failure"), ("deploy", "skipped")], "", Failure, &["build"], &[], &[]),
            (
                &[("build", "success"), ("deploy", "skipped")],
                "",
                Failure,
                &[],
                &["deploy"],
                &["job deploy was skipped"],
            ),
            (&[("build", "success"), ("deploy", "skipped")], "deploy", Success, &[], &[], &[]),
            (&[("build", "success"), ("deploy", "skipped")], " deploy , docs", Success, &[], &[], &["job docs"]),
            (&[("build", "SUCCESS"), ("test", "Failure")], "", Failure, &["test"], &[], &[]),
            // An allowed skip that ran anyway is fine.
            (&[("deploy", "success")], "deploy", Success, &[], &[], &[]),
        ];
        for (jobs, allowed, status, failed, skipped, warned) in table {
            let needs = parse(&needs_json(jobs)).unwrap_or_else(|e| panic!("{jobs:?}: {e}"));
            let verdict = needs.verdict(&parse_list(allowed));
            let row = format!("{jobs:?} allowed {allowed:?}: {verdict:?}");
            assert_eq!(verdict.status, *status, "{row}");
            assert_eq!(verdict.failed_jobs, *failed, "{row}");
            assert_eq!(verdict.skipped_jobs, *skipped, "{row}");
            assert_eq!(verdict.warnings.len(), warned.len(), "{row}");
            for (warning, words) in verdict.warnings.iter().zip(*warned) {
                assert!(warning.contains(words), "{row}");
            }
        }
    }

    #[test]
    fn jobs_keep_the_order_of_the_json() {
        let needs = parse(&needs_json(&[("zeta", "failure"), ("alpha", "failure"), ("mid", "failure")])).unwrap();
        assert_eq!(needs.verdict(&[]).failed_jobs, ["zeta", "alpha", "mid"]);
    }

    #[test]
    fn the_official_example_parses() {
        let text = r#"{
  "build":  { "result": "success", "outputs": { "build_id": "ABC123" } },
  "deploy": { "result": "failure", "outputs": {} }
}"#;
        let needs = parse(text).unwrap();
        assert_eq!(needs.jobs[1], Job { id: "deploy".into(), result: Status::Failure });
    }

    #[test]
    fn bad_input_is_refused_with_the_reason() {
        let table: &[(&str, &str)] = &[
            ("", "not a JSON object"),
            ("null", "not a JSON object"),
            ("[]", "not a JSON object"),
            ("\"build\"", "not a JSON object"),
            ("{}", "empty object"),
            ("  {\n}\n", "empty object"),
            ("{\"build\": {\"result\": \"success\"}", "not valid JSON"),
            ("{\"build\": {\"result\": \"success\"}} trailing", "not valid JSON"),
            ("{\"build\": {}}", "job build has no result"),
            ("{\"build\": \"success\"}", "job build has no result"),
            ("{\"build\": {\"result\": 1}}", "job build has no result"),
            ("{\"build\": {\"result\": \"timed_out\"}}", "result 'timed_out'"),
            ("{\"build\": {\"result\": \"success\"}, \"build\": {\"result\": \"failure\"}}", "twice"),
            ("{\"a b\": {\"result\": \"success\"}}", "'a b' is not a job id"),
            ("{\"\": {\"result\": \"success\"}}", "is not a job id"),
            ("{\"1st\": {\"result\": \"success\"}}", "is not a job id"),
        ];
        for (text, reason) in table {
            let error = parse(text).expect_err(text);
            assert!(error.contains(reason), "{text:?}: {error}");
        }
    }

    #[test]
    fn errors_never_echo_a_long_value_or_control_characters() {
        let long = "x".repeat(500);
        let error = parse(&format!("{{\"build\": {{\"result\": \"{long}\\u001b[31m\"}}}}")).unwrap_err();
        assert!(error.len() < 300 && !error.contains('\u{1b}'), "{error}");
    }

    #[test]
    fn allowed_skips_split_on_commas() {
        assert_eq!(parse_list(" a, b ,,a,c-d "), ["a", "b", "c-d"]);
        assert!(parse_list(" , ").is_empty());
    }
}
