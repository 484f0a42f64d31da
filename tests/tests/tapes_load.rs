//! Checks of the conformance-tape toolkit: every tape loads, recorded request
//! bodies are reproduced byte for byte, every `test.expected` is understood,
//! each assertion kind works, and the replay server serves tapes faithfully.

use std::collections::{BTreeMap, BTreeSet};

use hf_inference_tests::expect::{self, Actual, ActualKind, Expectation, KNOWN_KINDS};
use hf_inference_tests::replay::{
    ReplayOptions, ReplayServer, UNMATCHED_STATUS, header_mismatches, placeholder_bytes,
};
use hf_inference_tests::support::loopback_http;
use hf_inference_tests::tapes::{
    BodyKind, ExpectedBody, InputCache, Tape, TapeError, conformance_dir, group_by_test,
    inputs_dir, sha256_hex, tapes_dir,
};
use serde_json::{Value, json};

/// Tapes whose request body cannot be rebuilt, with the reason.
const BODY_EXCEPTIONS: &[(&str, &str)] = &[(
    "fal-ai__automatic-speech-recognition__ce75e6bef81f.json",
    "needs inputs/sample2.wav (3801644 bytes), left out of the corpus",
)];

fn all_tapes() -> Vec<Tape> {
    Tape::load_all().expect("load the conformance tapes")
}

fn tape(name: &str) -> Tape {
    Tape::load(tapes_dir().join(name)).expect("load tape")
}

#[test]
fn all_tapes_load() {
    assert!(
        conformance_dir().join("README.md").is_file(),
        "conformance dir: {}",
        conformance_dir().display()
    );
    let tapes = all_tapes();
    assert_eq!(tapes.len(), 232);
    let names: Vec<&str> = tapes.iter().map(|t| t.file_name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "load_dir sorts by file name");

    let mut modes: BTreeMap<&str, usize> = BTreeMap::new();
    let mut tests = BTreeSet::new();
    for t in &tapes {
        assert_eq!(
            t.file_name,
            format!("{}__{}__{}.json", t.provider, t.task, t.short_id())
        );
        assert_eq!(t.id.len(), 64);
        *modes.entry(t.mode.as_str()).or_default() += 1;
        tests.insert(t.test.name.clone());
        assert!(
            matches!(t.request.method.as_str(), "GET" | "POST"),
            "{}",
            t.file_name
        );
        if t.is_inline() {
            assert!(
                t.host().is_none() && t.path_and_query().is_none(),
                "{}",
                t.file_name
            );
        } else {
            let host = t
                .host()
                .unwrap_or_else(|| panic!("{}: no host", t.file_name));
            assert!(
                t.request.url.starts_with(&format!("https://{host}")),
                "{}",
                t.file_name
            );
            assert!(
                t.path_and_query().is_some_and(|p| p.starts_with('/')),
                "{}",
                t.file_name
            );
        }
        if t.response.is_sse {
            assert!(
                t.response.body_text.is_some(),
                "{}: SSE without body_text",
                t.file_name
            );
        }
    }
    assert_eq!(
        modes,
        BTreeMap::from([("direct", 96), ("inline", 9), ("routed", 127)])
    );
    assert_eq!(tests.len(), 61, "tests that made a call");
    assert_eq!(
        group_by_test(&tapes).len(),
        62,
        "with the tests that only replay one"
    );
    assert_eq!(tapes.iter().filter(|t| t.in_final_spec).count(), 61);

    let bfl = tape("black-forest-labs__text-to-image__23eefbade142.json");
    assert_eq!(bfl.host().as_deref(), Some("api.us1.bfl.ai"));
    assert_eq!(
        bfl.path_and_query().as_deref(),
        Some("/v1/get_result?id=dd8b1c92-587b-428c-9095-d8c12a641160&attempt=0")
    );
    assert_eq!(bfl.test.step, Some(2));
    assert_eq!(bfl.provenance.auth_scheme, Some(None));
    assert_eq!(
        bfl.response.headers.get("retry-after").map(String::as_str),
        Some("1")
    );

    let groups = group_by_test(&tapes);
    let bfl_group: Vec<&str> = groups["Black Forest Labs > textToImage"]
        .iter()
        .map(|t| t.file_name.as_str())
        .collect();
    assert_eq!(
        bfl_group,
        [
            "black-forest-labs__text-to-image__b320223c78e2.json",
            "black-forest-labs__text-to-image__23eefbade142.json",
            "black-forest-labs__text-to-image__5803254b4092.json",
            "black-forest-labs__asset-download__548ead852230.json",
        ]
    );
    assert_eq!(
        Tape::load_for_test("Black Forest Labs > textToImage URL")
            .unwrap()
            .len(),
        3,
        "the URL variant stops before the download"
    );
}

#[test]
fn request_bodies_reproduce_recorded_sha256() {
    let tapes = all_tapes();
    let mut inputs = InputCache::new(inputs_dir());
    let mut checked = 0;
    let mut exceptions = Vec::new();
    for t in &tapes {
        let Some(sha) = &t.request.body_sha256 else {
            continue;
        };
        match t.expected_body_with(&mut inputs) {
            Ok(body) => {
                let bytes = match body {
                    ExpectedBody::Json(v) => serde_json::to_vec(&v).unwrap(),
                    ExpectedBody::Bytes(b) => b,
                    ExpectedBody::Text(s) => s.into_bytes(),
                    other => panic!("{}: sha256 recorded but body is {other:?}", t.file_name),
                };
                assert_eq!(
                    &sha256_hex(&bytes),
                    sha,
                    "{}: sha256 of the rebuilt body",
                    t.file_name
                );
                assert_eq!(
                    Some(bytes.len() as u64),
                    t.request.body_length,
                    "{}",
                    t.file_name
                );
                checked += 1;
            }
            Err(TapeError::MissingInput { file, .. }) => {
                exceptions.push((t.file_name.clone(), file))
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(checked, 175, "tapes whose body sha256 was reproduced");
    let expected: Vec<(String, String)> = BODY_EXCEPTIONS
        .iter()
        .map(|(f, _)| (f.to_string(), "sample2.wav".to_string()))
        .collect();
    assert_eq!(exceptions, expected);

    // Templates are really substituted, binary bodies come from inputs/.
    let vqa = tape("hf-inference__visual-question-answering__983b472abeea.json");
    assert!(vqa.is_template());
    assert_eq!(vqa.template_files(), ["cats.png"]);
    let ExpectedBody::Json(body) = vqa.expected_body().unwrap() else {
        panic!("json body")
    };
    let image = body
        .pointer("/inputs/image")
        .and_then(Value::as_str)
        .unwrap();
    assert!(
        !image.contains("{{") && image.starts_with("iVBOR"),
        "base64 of a PNG"
    );
    let flac = tape("hf-inference__audio-classification__2bd46ca62e5d.json");
    assert_eq!(flac.request.body_kind, BodyKind::Binary);
    assert_eq!(
        flac.expected_body_bytes().unwrap().unwrap(),
        std::fs::read(inputs_dir().join("sample1.flac")).unwrap()
    );
    let unknown = tape("hf-inference__text-to-image__5d075f1b72a1.json");
    assert_eq!(unknown.expected_body_bytes().unwrap(), None);
    let get = tape("black-forest-labs__text-to-image__23eefbade142.json");
    assert_eq!(get.expected_body().unwrap(), ExpectedBody::Empty);
}

/// The VCR key: sha256 of `JSON.stringify({url, method, body})` as the JS
/// client built it (`method` absent for GET, `body` absent without a body,
/// `{}` for a Blob; the URL originally recorded for rewritten records).
#[test]
fn vcr_keys_reproduce() {
    // key_matches_request is true, but the stored URL had its signature
    // replaced by REDACTED, so the original key cannot be rebuilt.
    const KEY_EXCEPTIONS: &[&str] = &["black-forest-labs__asset-download__548ead852230.json"];
    let mut inputs = InputCache::new(inputs_dir());
    let mut reproduced = 0;
    for t in all_tapes() {
        let url = t
            .provenance
            .recorded_url
            .clone()
            .unwrap_or_else(|| t.request.url.clone());
        let mut key = serde_json::Map::new();
        key.insert("url".into(), Value::String(url));
        if t.request.method != "GET" {
            key.insert("method".into(), Value::String(t.request.method.clone()));
        }
        match t.expected_body_with(&mut inputs) {
            Ok(ExpectedBody::Empty) => {}
            Ok(ExpectedBody::Json(v)) => {
                key.insert(
                    "body".into(),
                    Value::String(serde_json::to_string(&v).unwrap()),
                );
            }
            Ok(ExpectedBody::Bytes(_)) => {
                key.insert("body".into(), json!({}));
            }
            Ok(ExpectedBody::Unknown { .. }) if t.request.body_kind == BodyKind::Binary => {
                key.insert("body".into(), json!({}));
            }
            _ => continue,
        }
        let matches = sha256_hex(&serde_json::to_vec(&Value::Object(key)).unwrap()) == t.id;
        match t.provenance.key_matches_request {
            Some(true) if KEY_EXCEPTIONS.contains(&t.file_name.as_str()) => {
                assert!(!matches, "{}", t.file_name)
            }
            Some(true) => {
                assert!(matches, "{}: VCR key not reproduced", t.file_name);
                reproduced += 1;
            }
            Some(false) => assert!(!matches, "{}: marked as not reproducible", t.file_name),
            None => {}
        }
    }
    assert_eq!(reproduced, 212);
}

#[test]
fn every_expected_kind_is_known() {
    let mut kinds: BTreeMap<&'static str, usize> = BTreeMap::new();
    for t in all_tapes() {
        if t.is_final() {
            assert!(
                t.test.expected.is_some(),
                "{}: final-spec tape without expectation",
                t.file_name
            );
        }
        let Some(parsed) = t.expectation() else {
            continue;
        };
        let e = parsed.unwrap_or_else(|err| panic!("{}: {err}", t.file_name));
        assert!(KNOWN_KINDS.contains(&e.kind()));
        *kinds.entry(e.kind()).or_default() += 1;
    }
    assert_eq!(
        kinds,
        BTreeMap::from([
            ("array_containing", 5),
            ("binary", 33),
            ("chat_content_contains", 6),
            ("chat_content_matches", 1),
            ("equals", 4),
            ("match_object", 9),
            ("ragged_shape", 1),
            ("stream_content_contains", 4),
            ("stream_content_nonempty", 2),
            ("string_includes", 1),
        ])
    );
    assert!(
        Expectation::parse(&json!({"assert": "frobnicate"}))
            .unwrap_err()
            .contains("unknown assertion kind")
    );
    assert!(
        Expectation::parse(&json!({"assert": "equals"}))
            .unwrap_err()
            .contains("lacks field `value`")
    );
    assert!(Expectation::parse(&json!({"value": 1})).is_err());
}

/// What the JS client returned is mostly the raw response body; these final
/// tapes need the client's post-processing first, so the raw body does not
/// satisfy the assertion.
const NEEDS_CLIENT_POSTPROCESSING: &[(&str, &str)] = &[
    (
        "hf-inference__document-question-answering__455be0eb4e66.json",
        "first element of the array",
    ),
    (
        "hf-inference__image-to-text__c67a299acb99.json",
        "first element of the array",
    ),
    (
        "hf-inference__summarization__426762b2497f.json",
        "first element of the array",
    ),
    (
        "hf-inference__text-generation__0c8c1538476a.json",
        "first element of the array",
    ),
    (
        "hf-inference__translation__98875468f806.json",
        "first element of a 1-element array",
    ),
    (
        "hf-inference__visual-question-answering__983b472abeea.json",
        "first element of the array",
    ),
    (
        "hyperbolic__text-generation__949ba2dd449c.json",
        "chat completion mapped to {generated_text}",
    ),
    (
        "together__text-generation__94570e88ad7c.json",
        "completion mapped to {generated_text}",
    ),
];

#[test]
fn recorded_responses_satisfy_their_expectations() {
    let mut failures = BTreeMap::new();
    let mut passed = 0;
    for t in all_tapes() {
        let Some(Ok(e)) = t.expectation() else {
            continue;
        };
        if t.is_inline() || t.task == "asset-download" {
            continue;
        }
        // Multi-request calls: only the last request's response is the result.
        if t.test.step.is_some() && t.test.step != t.test.steps && t.task != "translation" {
            continue;
        }
        let body = t
            .response
            .body_bytes()
            .unwrap_or_else(|| placeholder_bytes(t.response.content_type()));
        let events;
        let actual = match e.actual_kind() {
            ActualKind::Bytes => Actual::Bytes(&body),
            ActualKind::Stream => {
                events =
                    expect::parse_sse_events(t.response.body_text.as_deref().unwrap()).unwrap();
                Actual::Stream {
                    events: &events,
                    error: None,
                }
            }
            ActualKind::Json | ActualKind::Url => {
                Actual::Json(t.response.body_json.as_ref().unwrap())
            }
        };
        match e.check(actual) {
            Ok(()) => passed += 1,
            Err(msg) => {
                failures.insert(t.file_name.clone(), msg);
            }
        }
    }
    let expected: BTreeSet<&str> = NEEDS_CLIENT_POSTPROCESSING
        .iter()
        .map(|(f, _)| *f)
        .collect();
    let got: BTreeSet<&str> = failures.keys().map(String::as_str).collect();
    assert_eq!(got, expected, "failures: {failures:#?}");
    assert_eq!(passed, 29);
}

fn ok(expected: Value, actual: Value) {
    expect::check(&expected, Actual::Json(&actual))
        .unwrap_or_else(|e| panic!("{expected} vs {actual}: {e}"));
}

fn fails(expected: Value, actual: Value, needle: &str) {
    let err = expect::check(&expected, Actual::Json(&actual)).expect_err("the assertion must fail");
    assert!(err.contains(needle), "message {err:?} lacks {needle:?}");
}

#[test]
fn assert_equals() {
    let e = json!({"assert": "equals", "value": [{"label": "animal", "score": "<number>"}, {"label": "car", "score": "<number>"}]});
    ok(
        e.clone(),
        json!([{"label": "animal", "score": 0.9}, {"score": 1, "label": "car"}]),
    );
    ok(
        e.clone(),
        json!([{"label": "animal", "score": 0.9, "extra": null}, {"label": "car", "score": 0.1}]),
    );
    fails(
        e.clone(),
        json!([{"label": "animal", "score": 0.9}, {"label": "toy", "score": 0.1}]),
        "at $[1].label: expected \"car\", got \"toy\"",
    );
    fails(
        e.clone(),
        json!([{"label": "animal", "score": "high"}, {"label": "car", "score": 0.1}]),
        "at $[0].score: expected any number",
    );
    fails(
        e.clone(),
        json!([{"label": "animal", "score": 0.9, "extra": 1}, {"label": "car", "score": 0.1}]),
        "at $[0].extra: unexpected key",
    );
    fails(
        e,
        json!([{"label": "animal", "score": 0.9}]),
        "expected an array of 2 elements, got 1",
    );
    ok(
        json!({"assert": "equals", "value": {"n": 1}}),
        json!({"n": 1.0}),
    );
    ok(
        json!({"assert": "equals", "value": ["<string>", "<boolean>"]}),
        json!(["a", false]),
    );
    fails(
        json!({"assert": "equals", "value": ["<boolean>"]}),
        json!([0]),
        "expected any boolean",
    );
}

#[test]
fn assert_close_to() {
    let e =
        json!({"assert": "equals", "value": [{"$close_to": 0.5, "digits": 3}, {"$close_to": 10}]});
    ok(e.clone(), json!([0.5004, 10.004]));
    fails(
        e.clone(),
        json!([0.5006, 10]),
        "at $[0]: expected a number close to 0.5",
    );
    fails(
        e,
        json!([0.5, 10.006]),
        "at $[1]: expected a number close to 10",
    );
}

#[test]
fn assert_match_object() {
    let e = json!({"assert": "match_object", "value": {"answer": "Paris", "score": "<number>"}});
    ok(
        e.clone(),
        json!({"answer": "Paris", "score": 0.97, "start": 1, "end": 6}),
    );
    fails(
        e.clone(),
        json!({"answer": "Lyon", "score": 0.97}),
        "at $.answer: expected \"Paris\", got \"Lyon\"",
    );
    fails(e, json!({"answer": "Paris"}), "at $.score: missing");
    let arr = json!({"assert": "match_object", "value": [{"t": "a"}, {"t": "b"}]});
    ok(arr.clone(), json!([{"t": "a", "x": 1}, {"t": "b"}]));
    fails(
        arr.clone(),
        json!([{"t": "a"}]),
        "expected an array of 2 elements",
    );
    fails(arr, json!({"t": "a"}), "at $: expected [");
}

#[test]
fn assert_array_containing() {
    let e =
        json!({"assert": "array_containing", "item": {"score": "<number>", "label": "<string>"}});
    ok(
        e.clone(),
        json!([{"score": "x", "label": "a"}, {"score": 0.5, "label": "b"}]),
    );
    fails(
        e.clone(),
        json!([{"score": 0.5, "label": 1}]),
        "no element of $ (1 elements) equals",
    );
    fails(e.clone(), json!([]), "no element of $ (0 elements)");
    fails(e, json!({"score": 0.5}), "expected an array");
    let min = json!({"assert": "array_containing", "item": "<number>", "min_length": 3});
    ok(min.clone(), json!([1, 2, 3]));
    fails(min, json!([1, 2]), "expected at least 3 elements, got 2");
}

#[test]
fn assert_binary_and_url_string() {
    let b = json!({"assert": "binary"});
    assert!(expect::check(&b, Actual::Bytes(b"\x89PNG")).is_ok());
    assert!(
        expect::check(&b, Actual::Bytes(b""))
            .unwrap_err()
            .contains("empty")
    );
    assert!(
        expect::check(&b, Actual::Json(&json!("x")))
            .unwrap_err()
            .contains("expected raw bytes")
    );
    let u = json!({"assert": "url_string"});
    assert!(expect::check(&u, Actual::Url("https://fal.media/files/x.png")).is_ok());
    assert!(expect::check(&u, Actual::Json(&json!("data:image/png;base64,AAAA"))).is_ok());
    assert!(
        expect::check(&u, Actual::Url("not a url"))
            .unwrap_err()
            .contains("is not a URL")
    );
    assert!(
        expect::check(&u, Actual::Url("ftp://x/y"))
            .unwrap_err()
            .contains("unexpected scheme")
    );
    assert!(expect::check(&u, Actual::Bytes(b"x")).is_err());
    let p = json!({"assert": "url_string", "prefix": "https://replicate.delivery/"});
    assert!(expect::check(&p, Actual::Url("https://replicate.delivery/a.png")).is_ok());
    assert!(
        expect::check(&p, Actual::Url("https://fal.media/a.png"))
            .unwrap_err()
            .contains("does not start with")
    );
}

#[test]
fn assert_chat_content() {
    let lenient = json!({"assert": "chat_content_contains", "value": "two", "path": "choices[0].message.content", "note": "checked only when choices is non-empty"});
    ok(
        lenient.clone(),
        json!({"choices": [{"message": {"content": "one plus one is two"}}]}),
    );
    ok(lenient.clone(), json!({"choices": []}));
    fails(
        lenient.clone(),
        json!({"choices": [{"message": {"content": "three"}}]}),
        "at $.choices[0].message.content: \"three\" does not contain \"two\"",
    );
    fails(
        lenient,
        json!({"choices": [{"message": {}}]}),
        "at $.choices[0].message.content: missing",
    );
    let strict = json!({"assert": "chat_content_contains", "value": "two", "path": "choices[0].message.content", "note": "choices must be defined and non-empty; content is a string"});
    fails(
        strict.clone(),
        json!({"choices": []}),
        "expected a non-empty array",
    );
    fails(
        strict,
        json!({"choices": [{"message": {"content": 2}}]}),
        "expected a string, got 2",
    );
    let re = json!({"assert": "chat_content_matches", "regex": "(two|2)", "flags": "i", "path": "choices[0].message.content"});
    ok(
        re.clone(),
        json!({"choices": [{"message": {"content": "It is TWO."}}]}),
    );
    ok(
        re.clone(),
        json!({"choices": [{"message": {"content": "1+1=2"}}]}),
    );
    fails(
        re,
        json!({"choices": [{"message": {"content": "three"}}]}),
        "does not match /(two|2)/i",
    );
    assert!(
        Expectation::parse(&json!({"assert": "chat_content_matches", "regex": "(", "flags": ""}))
            .is_err()
    );
}

fn chunk(content: &str) -> Value {
    json!({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": content}}]})
}

#[test]
fn assert_stream_content() {
    let events = vec![
        json!({"choices": [{"delta": {"role": "assistant"}}]}),
        chunk("The answer"),
        chunk(" is 2."),
    ];
    let stream = Actual::Stream {
        events: &events,
        error: None,
    };
    let contains = json!({"assert": "stream_content_contains", "value": "is 2"});
    assert!(expect::check(&contains, stream).is_ok());
    let err = expect::check(
        &json!({"assert": "stream_content_contains", "value": "two"}),
        stream,
    )
    .unwrap_err();
    assert!(
        err.contains("\"The answer is 2.\" (3 events) does not contain \"two\""),
        "{err}"
    );
    let failed = Actual::Stream {
        events: &events,
        error: Some("connection reset"),
    };
    assert!(
        expect::check(&contains, failed)
            .unwrap_err()
            .contains("the stream failed after 3 events: connection reset")
    );
    assert!(
        expect::check(&contains, Actual::Json(&json!({})))
            .unwrap_err()
            .contains("expected a stream")
    );

    let matches =
        json!({"assert": "stream_content_matches", "regex": "answer IS \\d", "flags": "i"});
    assert!(expect::check(&matches, stream).is_ok());
    assert!(
        expect::check(
            &json!({"assert": "stream_content_matches", "regex": "^\\d"}),
            stream
        )
        .is_err()
    );

    let nonempty = json!({"assert": "stream_content_nonempty"});
    assert!(expect::check(&nonempty, stream).is_ok());
    let empty = vec![chunk("")];
    let err = expect::check(
        &nonempty,
        Actual::Stream {
            events: &empty,
            error: None,
        },
    )
    .unwrap_err();
    assert!(
        err.contains("streamed content is empty (1 events)"),
        "{err}"
    );
}

#[test]
fn assert_stream_each_match_object_and_error() {
    let events = vec![chunk("a"), chunk("b")];
    let each = json!({"assert": "stream_each_match_object", "value": {"object": "chat.completion.chunk", "choices": [{"index": "<number>"}]}});
    assert!(
        expect::check(
            &each,
            Actual::Stream {
                events: &events,
                error: None
            }
        )
        .is_ok()
    );
    let mut bad = events.clone();
    bad.push(json!({"object": "error"}));
    let err = expect::check(
        &each,
        Actual::Stream {
            events: &bad,
            error: None,
        },
    )
    .unwrap_err();
    assert!(
        err.contains("at $events[2].object: expected \"chat.completion.chunk\""),
        "{err}"
    );
    assert!(
        expect::check(
            &each,
            Actual::Stream {
                events: &[],
                error: None
            }
        )
        .unwrap_err()
        .contains("no events")
    );

    let se = json!({"assert": "stream_error", "message": "Input validation error"});
    let failing = Actual::Stream {
        events: &events,
        error: Some("Input validation error: `inputs` must have less than 4096 tokens"),
    };
    assert!(expect::check(&se, failing).is_ok());
    assert!(expect::check(&se, Actual::Error("Input validation error: bad")).is_ok());
    let err = expect::check(
        &se,
        Actual::Stream {
            events: &events,
            error: None,
        },
    )
    .unwrap_err();
    assert!(err.contains("ended normally after 2 events"), "{err}");
    let err = expect::check(
        &se,
        Actual::Stream {
            events: &events,
            error: Some("timeout"),
        },
    )
    .unwrap_err();
    assert!(
        err.contains("\"timeout\" does not contain \"Input validation error\""),
        "{err}"
    );
    // Any other assertion fails when the call failed.
    assert!(
        expect::check(&json!({"assert": "binary"}), Actual::Error("boom"))
            .unwrap_err()
            .contains("the call failed: boom")
    );
}

#[test]
fn assert_string_includes() {
    let e = json!({"assert": "string_includes", "path": "generated_text", "value": "three"});
    ok(e.clone(), json!({"generated_text": "one two three"}));
    fails(
        e.clone(),
        json!({"generated_text": "one two"}),
        "at $.generated_text: \"one two\" does not contain \"three\"",
    );
    fails(
        e.clone(),
        json!({"text": "three"}),
        "at $.generated_text: missing",
    );
    fails(e, json!({"generated_text": 3}), "expected a string, got 3");
    ok(
        json!({"assert": "string_includes", "path": "a[1].b", "value": "x"}),
        json!({"a": [{}, {"b": "xyz"}]}),
    );
}

#[test]
fn assert_shapes() {
    let shape = json!({"assert": "shape", "value": [2, "*"]});
    ok(shape.clone(), json!([[1, 2, 3], [4, 5]]));
    fails(
        shape.clone(),
        json!([[1, 2, 3]]),
        "at $: expected length 2, got 1",
    );
    fails(shape, json!([[1], 2]), "at $[1]: expected an array, got 2");
    ok(
        json!({"assert": "shape", "value": [1, 3]}),
        json!([[0.1, 0.2, 0.3]]),
    );
    fails(
        json!({"assert": "shape", "value": [1, 3]}),
        json!([[0.1, 0.2]]),
        "at $[0]: expected length 3, got 2",
    );

    let ragged = json!({"assert": "ragged_shape", "value": [[1, 3, "*"], [1, 7, "*"]]});
    let row = |n: usize| json!([vec![vec![0.5; 4]; n]]);
    ok(ragged.clone(), json!([row(3), row(7)]));
    fails(
        ragged.clone(),
        json!([row(3), row(6)]),
        "at $[1][0]: expected length 7, got 6",
    );
    fails(ragged, json!([row(3)]), "at $: expected 2 elements, got 1");

    let aoa = json!({"assert": "array_of_arrays"});
    ok(aoa.clone(), json!([[1, 2], [3]]));
    fails(
        aoa.clone(),
        json!([[1], 2]),
        "at $[1]: expected an array, got 2",
    );
    fails(aoa, json!([]), "expected at least 1 elements, got 0");
    let typed = json!({"assert": "array_of_arrays", "item": "<number>"});
    ok(typed.clone(), json!([[1.5], [2]]));
    fails(
        typed,
        json!([[1.5], ["x"]]),
        "at $[1][0]: expected any number",
    );
}

// ---------------------------------------------------------------------------
// Replay server
// ---------------------------------------------------------------------------

#[tokio::test]
async fn replay_json_sse_and_binary_tapes() {
    let summarization = tape("hf-inference__summarization__426762b2497f.json");
    let sse = tape("cerebras__chat-completion__b3cad22ff43c.json");
    let flac = tape("hf-inference__audio-classification__2bd46ca62e5d.json");
    let vqa = tape("hf-inference__visual-question-answering__983b472abeea.json");
    let image = tape("hf-inference__text-to-image__d43005f18160.json");
    let server = ReplayServer::start([&summarization, &sse, &flac, &vqa, &image]).unwrap();
    let client = loopback_http();
    let router = server.url_for_host("router.huggingface.co");
    assert!(router.starts_with("http://127.0.0.1:"));
    assert_eq!(
        server.hosts().len(),
        2,
        "router.huggingface.co and api.cerebras.ai"
    );

    // JSON: the body may be re-serialized with another key order and spacing.
    let body = summarization.request.body_json.clone().unwrap();
    let reordered: serde_json::Map<String, Value> = body
        .as_object()
        .unwrap()
        .clone()
        .into_iter()
        .rev()
        .collect();
    let resp = client
        .post(format!(
            "{router}{}",
            summarization.path_and_query().unwrap()
        ))
        .header("Authorization", "Bearer hf_test")
        .body(serde_json::to_string_pretty(&reordered).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), summarization.response.status);
    assert_eq!(
        resp.headers()["x-replay-tape"],
        summarization.file_name.as_str()
    );
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        summarization.response.body_json.clone().unwrap()
    );

    // SSE: served verbatim with its content type.
    let resp = client
        .post(server.tape_url(&sse).unwrap())
        .json(sse.request.body_json.as_ref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    assert_eq!(
        resp.text().await.unwrap(),
        sse.response.body_text.clone().unwrap()
    );

    // Binary request body, matched by its bytes.
    let audio = std::fs::read(inputs_dir().join("sample1.flac")).unwrap();
    let resp = client
        .post(server.tape_url(&flac).unwrap())
        .body(audio.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let result: Value = resp.json().await.unwrap();
    let e = flac.expectation().unwrap().unwrap();
    e.check(Actual::Json(&result)).unwrap();

    // Templated JSON body with the real base64 of inputs/cats.png.
    let ExpectedBody::Json(vqa_body) = vqa.expected_body().unwrap() else {
        panic!()
    };
    let resp = client
        .post(server.tape_url(&vqa).unwrap())
        .json(&vqa_body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // The client returns the best answer, the first element of the array.
    let answers: Value = resp.json().await.unwrap();
    vqa.expectation()
        .unwrap()
        .unwrap()
        .check(Actual::Json(&answers[0]))
        .unwrap();

    // Binary response that was not recorded: placeholder bytes, recorded type.
    let resp = client
        .post(server.tape_url(&image).unwrap())
        .json(image.request.body_json.as_ref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(
        bytes.as_ref(),
        placeholder_bytes(Some("image/jpeg")).as_slice()
    );
    assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF]));

    // Every request was recorded with what the client sent.
    let requests = server.requests();
    assert_eq!(requests.len(), 5);
    assert!(requests.iter().all(|r| r.is_matched()));
    assert_eq!(requests[0].header("authorization"), Some("Bearer hf_test"));
    assert_eq!(requests[0].json(), Some(body));
    assert_eq!(requests[2].body.as_ref(), audio.as_slice());
    assert_eq!(requests[1].host, "api.cerebras.ai");
    assert_eq!(requests[1].original_url(), sse.request.url);
    assert!(server.unserved_tapes().is_empty());
    server.assert_all_matched();

    // Headers the client set, compared with the tape's.
    assert_eq!(
        header_mismatches(&summarization, &requests[0]),
        [
            r#"header Content-Type: expected "application/json", not sent"#,
            r#"header X-Wait-For-Model: expected "true", not sent"#,
        ]
    );
    assert!(header_mismatches(&sse, &requests[1]).is_empty());
    assert_eq!(
        header_mismatches(&flac, &requests[2]),
        [r#"header Content-Type: expected "audio/flac", not sent"#]
    );

    // The same bytes but another file: no match.
    let resp = client
        .post(server.tape_url(&flac).unwrap())
        .body(audio[1..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), UNMATCHED_STATUS);
    let diag: Value = resp.json().await.unwrap();
    let mismatches = diag["closest"]["mismatches"].to_string();
    assert!(
        mismatches.contains("expected bytes with sha256"),
        "{diag:#}"
    );
}

#[tokio::test]
async fn replay_rewrites_urls_for_follow_up_requests() {
    let tapes = Tape::load_for_test(
        &tape("replicate__text-to-image__0e8437f4a9dd.json")
            .test
            .name,
    )
    .unwrap();
    assert_eq!(tapes.len(), 2, "prediction + download");
    let server = ReplayServer::start(&tapes).unwrap();
    let client = loopback_http();
    let post = &tapes[0];
    let resp = client
        .post(server.tape_url(post).unwrap())
        .bearer_auth("r8_test")
        .json(post.request.body_json.as_ref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let prediction: Value = resp.json().await.unwrap();
    let output = prediction["output"][0].as_str().unwrap().to_string();
    let delivery = server.url_for_host("replicate.delivery");
    assert!(
        output.starts_with(&format!("{delivery}/")),
        "{output} is rewritten to loopback"
    );
    assert_eq!(output, server.rewrite_url(tapes[1].request.url.as_str()));
    let api = server.url_for_host("api.replicate.com");
    assert!(
        prediction["urls"]["get"]
            .as_str()
            .unwrap()
            .starts_with(&api)
    );
    assert!(
        !prediction.to_string().contains("https://"),
        "no absolute https URL is left"
    );

    // The client downloads the file without credentials.
    let resp = client.get(&output).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert!(resp.bytes().await.unwrap().starts_with(b"\x89PNG"));
    let downloads = server.requests_to("replicate.delivery");
    assert_eq!(downloads.len(), 1);
    assert!(
        !downloads[0].has_header("authorization"),
        "no Authorization header to the CDN"
    );
    assert_eq!(
        server.requests_to("api.replicate.com")[0].header("authorization"),
        Some("Bearer r8_test")
    );
    assert!(server.unserved_tapes().is_empty());
    server.assert_all_matched();

    // Rewriting can be turned off.
    let raw = ReplayServer::start_with(&tapes[..1], ReplayOptions::default().rewrite_urls(false))
        .unwrap();
    let resp: Value = client
        .post(raw.tape_url(post).unwrap())
        .json(post.request.body_json.as_ref().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(resp["output"][0], tapes[1].request.url.as_str());
}

#[tokio::test]
async fn replay_serves_polls_in_order_and_repeats_the_last() {
    let tapes = Tape::load_for_test("Black Forest Labs > textToImage").unwrap();
    assert_eq!(tapes.len(), 4);
    // The JS client appended `attempt=N` to the polling URL; ignoring it makes
    // both polls share one key, served in step order.
    let server = ReplayServer::start_with(
        &tapes,
        ReplayOptions::default().ignore_query_param("attempt"),
    )
    .unwrap();
    let client = loopback_http();
    let submit: Value = client
        .post(server.tape_url(&tapes[0]).unwrap())
        .header("X-Key", "bfl-test")
        .json(tapes[0].request.body_json.as_ref().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let polling_url = submit["polling_url"].as_str().unwrap().to_string();
    assert!(
        polling_url.starts_with(&server.url_for_host("api.us1.bfl.ai")),
        "{polling_url}"
    );

    let mut statuses = Vec::new();
    let mut sample = None;
    for _ in 0..3 {
        let poll: Value = client
            .get(&polling_url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        statuses.push(poll["status"].as_str().unwrap().to_string());
        if let Some(url) = poll["result"]["sample"].as_str() {
            sample = Some(url.to_string());
        }
    }
    assert_eq!(statuses, ["Pending", "Ready", "Ready"]);
    let sample = sample.unwrap();
    assert!(
        sample.starts_with(&server.url_for_host("delivery-us1.bfl.ai")),
        "{sample}"
    );
    let image = client.get(&sample).send().await.unwrap();
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/jpeg");
    let tapes_served: Vec<Option<String>> =
        server.requests().into_iter().map(|r| r.matched).collect();
    assert_eq!(
        tapes_served,
        [
            Some("black-forest-labs__text-to-image__b320223c78e2.json".to_string()),
            Some("black-forest-labs__text-to-image__23eefbade142.json".to_string()),
            Some("black-forest-labs__text-to-image__5803254b4092.json".to_string()),
            Some("black-forest-labs__text-to-image__5803254b4092.json".to_string()),
            Some("black-forest-labs__asset-download__548ead852230.json".to_string()),
        ]
    );
    assert!(server.unserved_tapes().is_empty());

    // Without ignoring `attempt`, each poll URL is its own key.
    let strict = ReplayServer::start(&tapes).unwrap();
    let poll0 = strict.tape_url(&tapes[1]).unwrap();
    assert!(poll0.ends_with("&attempt=0"));
    for _ in 0..2 {
        let poll: Value = client
            .get(&poll0)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(poll["status"], "Pending");
    }
    let resp = client
        .get(poll0.replace("attempt=0", "attempt=7"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), UNMATCHED_STATUS);
    let diag: Value = resp.json().await.unwrap();
    assert!(
        diag["closest"]["mismatches"][0]
            .as_str()
            .unwrap()
            .contains("unexpected: [attempt=7]"),
        "{diag:#}"
    );
}

#[tokio::test]
async fn replay_explains_unmatched_requests() {
    let qa = tape("hf-inference__question-answering__ead272eb5ffd.json");
    let server = ReplayServer::start([&qa]).unwrap();
    let client = loopback_http();
    let url = server.tape_url(&qa).unwrap();
    let mut body = qa.request.body_json.clone().unwrap();
    body["inputs"]["question"] = json!("What is the capital of Italy?");
    let resp = client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), UNMATCHED_STATUS);
    let diag: Value = resp.json().await.unwrap();
    assert_eq!(diag["closest"]["tapes"][0], qa.file_name.as_str());
    let mismatches: Vec<String> =
        serde_json::from_value(diag["closest"]["mismatches"].clone()).unwrap();
    assert_eq!(mismatches.len(), 1, "{mismatches:?}");
    assert!(
        mismatches[0].starts_with("body /inputs/question: expected \""),
        "{mismatches:?}"
    );
    assert!(
        mismatches[0].contains("got \"What is the capital of Italy?\""),
        "{mismatches:?}"
    );
    assert_eq!(diag["request"]["method"], "POST");

    // Wrong path on the same host, and a body that is not JSON.
    let resp = client
        .post(format!(
            "{}/models/nope",
            server.url_for_host("router.huggingface.co")
        ))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), UNMATCHED_STATUS);
    let diag: Value = resp.json().await.unwrap();
    let text = diag["closest"]["mismatches"].to_string();
    assert!(
        text.contains(
            "path: expected /hf-inference/models/deepset/roberta-base-squad2, got /models/nope"
        ),
        "{text}"
    );
    assert!(text.contains("body: expected JSON"), "{text}");

    // A host without tapes answers too (no network), with the closest tape.
    let resp = client
        .get(format!("{}/anything", server.url_for_host("example.org")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), UNMATCHED_STATUS);
    let diag: Value = resp.json().await.unwrap();
    assert_eq!(diag["candidates_on_host"], 0);
    assert!(
        diag["closest"]["mismatches"][0]
            .as_str()
            .unwrap()
            .starts_with("host:")
    );

    assert_eq!(server.unmatched().len(), 3);
    assert_eq!(server.unserved_tapes(), vec![qa.file_name.clone()]);
    let panic =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| server.assert_all_matched()));
    let message = *panic.unwrap_err().downcast::<String>().unwrap();
    assert!(
        message.starts_with("3 request(s) matched no tape"),
        "{message}"
    );

    // The right request still matches afterwards.
    let resp = client
        .post(&url)
        .json(&qa.request.body_json)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    server.clear_requests();
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn replay_hub_mapping_and_routes() {
    let tapes =
        Tape::load_for_test("Fal AI > textToImage - black-forest-labs/FLUX.1-schnell").unwrap();
    let all = all_tapes();
    let fal: Vec<&Tape> = all
        .iter()
        .filter(|t| t.provider == "fal-ai" && t.is_final())
        .collect();
    let server = ReplayServer::start(&tapes).unwrap();
    assert!(server.add_provider_mappings(fal.iter().copied()) >= 2);
    let client = loopback_http();
    let hub = server.url_for_host("huggingface.co");
    let resp = client
        .get(format!("{hub}/api/models/black-forest-labs/FLUX.1-schnell?expand%5B%5D=inferenceProviderMapping"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(
        answer["inferenceProviderMapping"]["fal-ai"],
        json!({"providerId": "fal-ai/flux/schnell", "task": "text-to-image", "status": "live"})
    );
    assert_eq!(answer["id"], "black-forest-labs/FLUX.1-schnell");

    // A custom route; a query in the route must match.
    server.add_route(
        "huggingface.co",
        "GET",
        "/api/models/x/y?expand=a",
        404,
        json!({"error": "nope"}),
    );
    let resp = client
        .get(format!("{hub}/api/models/x/y?expand=a"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"error": "nope"})
    );
    let resp = client
        .get(format!("{hub}/api/models/x/y?expand=b"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), UNMATCHED_STATUS);
    // Replacing a route.
    server.add_route(
        "huggingface.co",
        "GET",
        "/api/models/x/y?expand=a",
        200,
        json!({"ok": true}),
    );
    let resp = client
        .get(format!("{hub}/api/models/x/y?expand=a"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"ok": true}));
}

#[test]
fn replay_server_works_without_an_async_test_and_shuts_down_on_drop() {
    let t = tape("hf-hub__hub-api__434ba515f86f.json");
    let server = ReplayServer::start([&t]).unwrap();
    let addr = server.addr_for_host("huggingface.co");
    let url = server.tape_url(&t).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body: Value = rt.block_on(async {
        loopback_http()
            .get(&url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(body, t.response.body_json.clone().unwrap());
    drop(server);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        if std::net::TcpStream::connect(addr).is_err() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "listener still accepting after drop"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[tokio::test]
async fn replay_every_tape_matches_its_own_request() {
    // Each non-inline tape, alone in a server, answers the request rebuilt from it.
    let client = loopback_http();
    let mut inputs = InputCache::new(inputs_dir());
    let tapes = all_tapes();
    let server = ReplayServer::start(&tapes).unwrap();
    let mut sent = 0;
    for t in tapes.iter().filter(|t| !t.is_inline()) {
        let body = match t.expected_body_with(&mut inputs) {
            Ok(ExpectedBody::Empty) => Vec::new(),
            Ok(ExpectedBody::Json(v)) => serde_json::to_vec(&v).unwrap(),
            Ok(ExpectedBody::Text(s)) => s.into_bytes(),
            Ok(ExpectedBody::Bytes(b)) => b,
            // Not recorded: any body (the hint's file, if any).
            Ok(ExpectedBody::Unknown { .. }) => t
                .request
                .body_input_hint
                .as_deref()
                .and_then(|f| inputs.bytes(f))
                .map(<[u8]>::to_vec)
                .unwrap_or_default(),
            // sample2.wav is missing: any string with the data-URL prefix matches.
            Err(TapeError::MissingInput { .. }) => {
                serde_json::to_vec(&json!({"audio_url": "data:audio/x-wav;base64,UklGRg=="}))
                    .unwrap()
            }
            Err(e) => panic!("{e}"),
        };
        let url = server.tape_url(t).unwrap();
        let method = reqwest::Method::from_bytes(t.request.method.as_bytes()).unwrap();
        let resp = client
            .request(method, &url)
            .body(body)
            .send()
            .await
            .unwrap();
        let served = resp
            .headers()
            .get("x-replay-tape")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(
            resp.status().as_u16(),
            t.response.status,
            "{}: {:?}",
            t.file_name,
            resp.text().await
        );
        assert!(served.is_some(), "{}", t.file_name);
        if let Some(ct) = t.response.content_type() {
            assert_eq!(resp.headers()["content-type"], ct, "{}", t.file_name);
        }
        sent += 1;
    }
    assert_eq!(sent, 223);
    server.assert_all_matched();
    // Tapes sharing a request key with an earlier one are served on repeat
    // requests only; everything else was served.
    let unserved = server.unserved_tapes();
    assert!(unserved.len() < 30, "{unserved:?}");
}
