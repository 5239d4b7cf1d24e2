package io.keymesh.runtime;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads a program's YAML configuration file into its record. Unknown keys are errors, so a typo
 * never silently falls back to a default; every failure is one line naming the file.
 */
public final class YamlConfig {
    private static final YAMLMapper YAML = YAMLMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private YamlConfig() {
    }

    /** {@code empty} when {@code file} is null (no file given) or the file has no settings. */
    public static <T> T load(Path file, Class<T> type, T empty) {
        if (file == null) {
            return empty;
        }
        try {
            T config = YAML.readValue(file.toFile(), type);
            return config == null ? empty : config;
        } catch (UnrecognizedPropertyException e) {
            throw new IllegalArgumentException(file + ": unknown setting '" + e.getPropertyName() + "' (known: "
                    + e.getKnownPropertyIds() + ")");
        } catch (JsonMappingException e) {
            throw new IllegalArgumentException(file + ": " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"));
        } catch (IOException e) {
            if (e instanceof NoSuchFileException || !file.toFile().exists()) {
                throw new IllegalArgumentException("config file " + file + " does not exist");
            }
            throw new IllegalArgumentException("cannot read config file " + file + ": " + e.getMessage());
        }
    }

    /** The flag if given, else the file's value, else the default. */
    public static <T> T first(T flag, T file, T fallback) {
        return flag != null ? flag : file != null ? file : fallback;
    }
}
