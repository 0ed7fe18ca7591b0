fn main() {
    eprintln!("localops-connect: not built yet");
    std::process::exit(1);
}
