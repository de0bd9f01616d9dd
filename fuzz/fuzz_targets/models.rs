//! Every provider's typed models on arbitrary JSON: parsing never panics, and what parses
//! writes back to JSON that parses again into an equal event.
#![no_main]

use libfuzzer_sys::fuzz_target;

macro_rules! round_trip {
    ($event:ty, $data:expr) => {
        if let Ok(event) = <$event>::from_json($data) {
            let written = serde_json::to_vec(&event).expect("an event serializes");
            let again = <$event>::from_json(&written).expect("what was written parses");
            assert_eq!(event, again, "round trip");
        }
    };
}

fuzz_target!(|data: &[u8]| {
    round_trip!(webhook_guard::parallel::Event, data);
    round_trip!(webhook_guard::sixtyfour::Event, data);
    round_trip!(webhook_guard::fullenrich::Event, data);
    round_trip!(webhook_guard::parseflow::Event, data);
});
