import ArgumentParser

@main
struct Tweeter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Runs one Tweeter service.",
        subcommands: [ServeCommand.self]
    )
}
