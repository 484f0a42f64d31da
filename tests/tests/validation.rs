//! Validation before the network, across the task methods: empty inputs, malformed model ids,
//! parameter values no server accepts, a URL model given a provider, a binary input that cannot
//! be read. Each is an `Error::InvalidInput` naming the field as the body spells it, through
//! `preview` and `send` alike, and the client makes no connection at all: every endpoint is a
//! [`ConnectionCounter`], the model is a Hub id that is not pinned (so resolving the call would
//! ask the Hub), and each test ends by asserting the counter saw nothing. `bad_input.rs` has the
//! chat and text-generation specifics (messages, tokens, providers) and the control showing
//! that the counter does see a call that goes out.

use std::future::Future;

use hf_inference::binary::BinaryInput;
use hf_inference::types::chat_completion::ChatCompletionInputMessage;
use hf_inference::types::question_answering::QuestionAnsweringInputData;
use hf_inference::types::sentence_similarity::SentenceSimilarityInputData;
use hf_inference::{Error, InferenceClient, Provider, RequestPreview};
use hf_inference_tests::support::ConnectionCounter;

const TOKEN: &str = "hf_validationSecret0123456789abcd";
const MODEL: &str = "org/model";

fn client(counter: &ConnectionCounter) -> InferenceClient {
    counter
        .builder()
        .token(TOKEN)
        .provider(Provider::HfInference)
        .build()
        .unwrap()
}

/// Checks that `preview` and `send` of one call both fail with `InvalidInput` on `field`, with
/// a message containing `says`, the field named in the `Display`, and no token anywhere.
async fn expect_invalid<P, S, O>(what: &str, field: &str, says: &str, preview: P, send: S)
where
    P: Future<Output = Result<RequestPreview, Error>>,
    S: Future<Output = Result<O, Error>>,
    O: std::fmt::Debug,
{
    let previewed = preview.await.expect_err(what);
    let sent = send.await.expect_err(what);
    assert_eq!(previewed.to_string(), sent.to_string(), "{what}");
    match &sent {
        Error::InvalidInput {
            field: named,
            message,
        } => {
            assert_eq!(named, field, "{what}");
            assert!(message.contains(says), "{what}: {message}");
        }
        other => panic!("{what}: expected InvalidInput, got {other:?}"),
    }
    let shown = sent.to_string();
    assert!(shown.contains(&format!("`{field}`")), "{what}: {shown}");
    assert!(!format!("{shown} {sent:?}").contains("validationSecret"));
}

/// `expect_invalid` of a task request expression: previewed, then sent.
macro_rules! invalid {
    ($what:expr, $field:expr, $says:expr, $request:expr) => {{
        let request = $request;
        expect_invalid(
            $what,
            $field,
            $says,
            request.preview(),
            request.clone().send(),
        )
        .await
    }};
}

#[tokio::test]
async fn empty_inputs() {
    let counter = ConnectionCounter::start();
    let client = client(&counter);
    let c = &client;
    invalid!(
        "blank text",
        "inputs",
        "is empty",
        c.text_classification("   ").model(MODEL)
    );
    invalid!(
        "empty summary input",
        "inputs",
        "is empty",
        c.summarization("").model(MODEL)
    );
    invalid!(
        "empty translation input",
        "inputs",
        "is empty",
        c.translation("").model(MODEL)
    );
    invalid!(
        "empty batch",
        "inputs",
        "empty list",
        c.feature_extraction(Vec::<String>::new()).model(MODEL)
    );
    invalid!(
        "blank item of a batch",
        "inputs[1]",
        "is empty",
        c.feature_extraction(vec!["a".to_owned(), " ".to_owned()])
            .model(MODEL)
    );
    invalid!(
        "blank question",
        "inputs.question",
        "is empty",
        c.question_answering(QuestionAnsweringInputData {
            question: String::new(),
            context: "My name is Clara.".into(),
        })
        .model(MODEL)
    );
    invalid!(
        "no sentences to compare",
        "inputs.sentences",
        "empty list",
        c.sentence_similarity(SentenceSimilarityInputData {
            source_sentence: "a cat".into(),
            sentences: Vec::new(),
        })
        .model(MODEL)
    );
    let err = c.text_generation("").model(MODEL).send().await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { field, .. } if field == "inputs"),
        "{err:?}"
    );
    assert_eq!(counter.connections(), 0);
}

#[tokio::test]
async fn malformed_model_ids() {
    let counter = ConnectionCounter::start();
    let client = client(&counter);
    for model in [
        "org//model",
        "org/./model",
        "../../etc/passwd",
        "org/..",
        "has space/model",
        "org/model?token=1",
        "org/model#x",
        "/model",
    ] {
        invalid!(
            model,
            "model",
            "is not a model id",
            client.text_classification("I like you").model(model)
        );
        // The same check guards chat, whose model also reaches a URL path (hf-inference).
        let err = client
            .chat_completion(vec![ChatCompletionInputMessage::user("hi")])
            .model(model)
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput { field, .. } if field == "model"),
            "{model}: {err:?}"
        );
    }
    assert_eq!(counter.connections(), 0);
}

#[tokio::test]
async fn invalid_parameter_values() {
    let counter = ConnectionCounter::start();
    let client = client(&counter);
    let c = &client;
    let labels = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    invalid!(
        "top_k 0",
        "parameters.top_k",
        "at least 1, got 0",
        c.text_classification("I like you").model(MODEL).top_k(0)
    );
    invalid!(
        "negative top_k",
        "parameters.top_k",
        "at least 1, got -3",
        c.fill_mask("Paris is the [MASK] of France.")
            .model(MODEL)
            .top_k(-3)
    );
    invalid!(
        "negative width",
        "parameters.width",
        "got -512",
        c.text_to_image("a cat").model(MODEL).width(-512)
    );
    invalid!(
        "zero height",
        "parameters.height",
        "got 0",
        c.text_to_image("a cat").model(MODEL).height(0)
    );
    invalid!(
        "negative steps",
        "parameters.num_inference_steps",
        "got -1",
        c.text_to_image("a cat")
            .model(MODEL)
            .num_inference_steps(-1)
    );
    invalid!(
        "negative guidance",
        "parameters.guidance_scale",
        "must not be negative",
        c.text_to_image("a cat").model(MODEL).guidance_scale(-2.0)
    );
    invalid!(
        "threshold above 1",
        "parameters.threshold",
        "between 0 and 1",
        c.image_segmentation(b"\x89PNG\r\n\x1a\n".to_vec())
            .model(MODEL)
            .threshold(1.5)
    );
    invalid!(
        "no candidate labels",
        "parameters.candidate_labels",
        "at least one candidate label",
        c.zero_shot_classification("I like you", labels(&[]))
            .model(MODEL)
    );
    invalid!(
        "a blank candidate label",
        "parameters.candidate_labels[1]",
        "empty label",
        c.zero_shot_classification("I like you", labels(&["positive", " "]))
            .model(MODEL)
    );
    invalid!(
        "no candidate labels for an image",
        "parameters.candidate_labels",
        "at least one candidate label",
        c.zero_shot_image_classification(b"\x89PNG\r\n\x1a\n".to_vec(), labels(&[]))
            .model(MODEL)
    );
    let err = c
        .text_generation("Once upon a time")
        .model(MODEL)
        .max_new_tokens(0)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { field, .. } if field == "parameters.max_new_tokens"),
        "{err:?}"
    );
    assert_eq!(counter.connections(), 0);
}

#[tokio::test]
async fn a_url_model_with_a_provider() {
    let counter = ConnectionCounter::start();
    let client = client(&counter);
    invalid!(
        "URL model on together",
        "provider",
        "cannot also go to provider `together`",
        client
            .feature_extraction("hello")
            .model(format!("{}/embed", counter.url()))
            .provider(Provider::Together)
    );
    assert_eq!(counter.connections(), 0);
}

#[tokio::test]
async fn binary_input_that_cannot_be_read() {
    let counter = ConnectionCounter::start();
    let client = client(&counter);
    let missing = std::env::temp_dir().join("hf-inference-validation-no-such-file.png");
    let _ = std::fs::remove_file(&missing);
    invalid!(
        "missing file",
        "input",
        "does not exist",
        client
            .image_classification(BinaryInput::from_path(&missing))
            .model(MODEL)
    );
    invalid!(
        "a directory",
        "input",
        "is a directory",
        client
            .image_classification(BinaryInput::from_path(std::env::temp_dir()))
            .model(MODEL)
    );
    invalid!(
        "an empty input string",
        "input",
        "",
        client.image_classification("").model(MODEL)
    );
    invalid!(
        "a malformed data URL",
        "input",
        "",
        client
            .automatic_speech_recognition("data:audio/flac;base64,%%%")
            .model(MODEL)
    );
    assert_eq!(counter.connections(), 0);
}
