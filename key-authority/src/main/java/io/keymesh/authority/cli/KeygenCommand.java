package io.keymesh.authority.cli;

import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.keyfile.KeyFiles;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "keygen", mixinStandardHelpOptions = true,
        description = "Create an authority signing key (Ed25519) in a 0600 file and print its public key.")
final class KeygenCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "authority", description = "what the key is for: authority")
    String kind;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "where to write the private key (must not exist)")
    Path out;

    @Override
    public Integer call() {
        if (!"authority".equals(kind)) {
            throw new IllegalArgumentException("unknown key kind '" + kind + "': only 'authority' keys are made here (nodes make their own keys)");
        }
        Ed25519PrivateKey key = Ed25519PrivateKey.generate();
        KeyFiles.writeSecret(out, key.toBase64Secret(), false);
        var stdout = spec.commandLine().getOut();
        stdout.println("wrote " + out + " (mode 0600)");
        stdout.println("public key: " + key.publicKey().base64());
        stdout.println("key id:     " + key.publicKey().keyId());
        stdout.println("Pin the public key in every daemon's configuration (--trust-key) before the authority signs with it.");
        stdout.flush();
        return 0;
    }
}
