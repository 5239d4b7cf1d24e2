package io.keymesh.authority.cli;

import io.keymesh.runtime.Cli;
import io.keymesh.runtime.EtcdOptions;
import io.keymesh.runtime.Version;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** {@code keymesh}: the operator's command line. */
@Command(name = "keymesh", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Operate a keymesh WireGuard mesh: authority keys, join tokens, nodes, key rotation, revocation, "
                + "reprovisioning, verification.",
        subcommands = {KeygenCommand.class, TokenCommand.class, NodesCommand.class, RotateCommand.class, RolloutCommand.class,
                RevokeCommand.class, ReprovisionCommand.class, VerifyCommand.class, StatusCommand.class})
public final class KeymeshCli implements Runnable {

    @Option(names = "--endpoints", paramLabel = "URL", split = ",", scope = ScopeType.INHERIT,
            description = "etcd client URLs (default: the config file's, else http://127.0.0.1:2379)")
    List<String> endpoints;

    @Option(names = "--prefix", scope = ScopeType.INHERIT, description = "etcd key prefix (default /keymesh/v1)")
    String prefix;

    @Option(names = "--mesh", scope = ScopeType.INHERIT, description = "mesh name (default: the config file's, else keymesh)")
    String mesh;

    @Option(names = "--config", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "the authority's YAML configuration, for endpoints, prefix, mesh and trusted keys (not its etcd login: "
                    + "give the operator's with --etcd-*)")
    Path config;

    @Option(names = "--trust-key", paramLabel = "BASE64", scope = ScopeType.INHERIT,
            description = "an authority public key to verify records with (repeatable)")
    List<String> trustKeys;

    @Mixin
    EtcdOptions etcd = new EtcdOptions();

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "missing command");
    }

    public static void main(String[] args) {
        System.exit(Cli.run(new KeymeshCli(), args));
    }
}
