//! Prints `sentiment_explain` for each line of standard input.
use std::io::BufRead;

fn main() {
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        println!("{}", convlytics_core::sentiment::sentiment_explain_text(&line));
    }
}
