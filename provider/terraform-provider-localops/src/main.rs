fn main() {
    eprintln!("terraform-provider-localops: not built yet");
    std::process::exit(1);
}
