import org.jetbrains.kotlin.gradle.dsl.JvmTarget

// The Fieldsales Android library: the generated uniffi bindings (src/generated/kotlin), the
// hand-written coroutine layer over them (src/main/kotlin) and the Rust library itself, built
// for every Android ABI by cargo-ndk with the workspace's size-tuned `mobile` profile.
//
// Needs on the build machine: the Android SDK and NDK, `cargo`, the Rust targets
//   rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android i686-linux-android
// and `cargo install cargo-ndk` (3.x or 4.x).

plugins {
    alias(libs.plugins.android.library)
    alias(libs.plugins.kotlin.android)
}

/** The Rust workspace this module wraps: the folder above android/. */
val workspaceDir: File = rootDir.parentFile

/** Where cargo writes, honouring CARGO_TARGET_DIR like cargo does. */
val cargoTargetDir: File = System.getenv("CARGO_TARGET_DIR")?.let(::File) ?: workspaceDir.resolve("target")

/** The lowest Android API level: java.time without desugaring needs 26. */
val minApi = 26

/** cargo-ndk writes the .so files here, one folder per ABI, as jniLibs expects. */
val rustJniLibs: File = layout.buildDirectory.dir("rustJniLibs").get().asFile

/** The Rust library for every Android ABI, stripped and size-optimised. */
val cargoNdkBuild by tasks.registering(Exec::class) {
    group = "rust"
    description = "Builds libfieldsales_ffi.so for every Android ABI with cargo-ndk."
    workingDir = workspaceDir
    commandLine(
        "cargo", "ndk",
        "-t", "arm64-v8a", "-t", "armeabi-v7a", "-t", "x86_64", "-t", "x86",
        "--platform", minApi.toString(),
        "-o", rustJniLibs.absolutePath,
        "build", "--profile", "mobile", "-p", "fieldsales-ffi", "--lib", "--features", "vendored-openssl",
    )
    // Packed relocations (loaded since API level 23): about 1.3 MB less per ABI.
    environment("RUSTFLAGS", "-C link-arg=-Wl,--pack-dyn-relocs=android")
    inputs.files(fileTree(workspaceDir) {
        include("Cargo.toml", "Cargo.lock", "core/**", "ffi/**")
        exclude("**/target/**")
    })
    outputs.dir(rustJniLibs)
}

/** The Rust library for the build machine, for the JVM unit tests. */
val cargoHostBuild by tasks.registering(Exec::class) {
    group = "rust"
    description = "Builds the host libfieldsales_ffi for the JVM unit tests."
    workingDir = workspaceDir
    commandLine("cargo", "build", "-p", "fieldsales-ffi", "--lib")
}

android {
    namespace = "app.fieldsales"
    compileSdk = 35

    defaultConfig {
        minSdk = minApi
        consumerProguardFiles("consumer-rules.pro")
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    sourceSets {
        getByName("main") {
            // The Kotlin plugin compiles .kt files found in java source folders.
            java.srcDir("src/generated/kotlin")
            jniLibs.srcDir(rustJniLibs)
        }
    }

    testOptions {
        unitTests.all { test ->
            // Unit tests run on the build machine's JVM, against the host build of the library.
            test.dependsOn(cargoHostBuild)
            test.systemProperty("jna.library.path", cargoTargetDir.resolve("debug").absolutePath)
        }
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

tasks.named("preBuild") {
    dependsOn(cargoNdkBuild)
}

dependencies {
    // Public: the generated bindings expose JNA types, the coroutine layer exposes Flow.
    api("net.java.dev.jna:jna:${libs.versions.jna.get()}@aar")
    api(libs.kotlinx.coroutines.core)

    // The desktop JNA jar, whose native part loads on the build machine.
    testImplementation(libs.jna)
    testImplementation(libs.junit)
    testImplementation(libs.kotlin.test.junit)
}
