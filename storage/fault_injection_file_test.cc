// FaultInjectionEnv's crash model (storage/fault_injection_file.h): what a power cut leaves of
// files and of the directory entries that name them. The crash tests trust this model to find
// a missing Sync or SyncDir; these tests pin what it promises.
#include "storage/fault_injection_file.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace podium::storage {
namespace {

constexpr char kDir[] = "/data";
constexpr char kOtherDir[] = "/other";
constexpr char kOld[] = "/data/old";
constexpr char kNew[] = "/data/new";
constexpr char kSynced[] = "synced bytes";
constexpr char kUnsynced[] = " unsynced bytes";

class FaultInjectionFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.CreateDir(kDir).ok());
    ASSERT_TRUE(env_.CreateDir(kOtherDir).ok());
  }

  // Creates `path` holding `synced` (synced) then `unsynced` (not), its name durable.
  void Put(const std::string& path, const std::string& synced, const std::string& unsynced) {
    Result<std::unique_ptr<WritableFile>> file = env_.NewWritableFile(path);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    ASSERT_TRUE((*file)->Append(synced).ok());
    ASSERT_TRUE((*file)->Sync().ok());
    ASSERT_TRUE((*file)->Append(unsynced).ok());
    ASSERT_TRUE((*file)->Close().ok());
    ASSERT_TRUE(env_.SyncDir(kDir).ok());
  }

  std::string Contents(const std::string& path) { return env_.MutableContents(path); }

  FaultInjectionEnv env_;
};

TEST_F(FaultInjectionFileTest, AFileCreatedSinceTheLastSyncDirVanishes) {
  Result<std::unique_ptr<WritableFile>> file = env_.NewWritableFile(kNew);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append(kSynced).ok());
  ASSERT_TRUE((*file)->Sync().ok());  // its bytes are durable, its name is not
  env_.SimulateCrash();
  EXPECT_FALSE(env_.FileExists(kNew));
}

TEST_F(FaultInjectionFileTest, ARenameWithoutSyncDirIsUndone) {
  ASSERT_NO_FATAL_FAILURE(Put(kOld, kSynced, kUnsynced));
  ASSERT_TRUE(env_.RenameFile(kOld, kNew).ok());
  EXPECT_FALSE(env_.FileExists(kOld));
  ASSERT_TRUE(env_.SyncDir(kOtherDir).ok());  // another directory's sync commits nothing here
  env_.SimulateCrash();
  EXPECT_FALSE(env_.FileExists(kNew));
  ASSERT_TRUE(env_.FileExists(kOld));
  EXPECT_EQ(Contents(kOld), kSynced);
}

TEST_F(FaultInjectionFileTest, ARenameFollowedBySyncDirSurvives) {
  ASSERT_NO_FATAL_FAILURE(Put(kOld, kSynced, kUnsynced));
  ASSERT_TRUE(env_.RenameFile(kOld, kNew).ok());
  ASSERT_TRUE(env_.SyncDir(kDir).ok());
  env_.SimulateCrash();
  EXPECT_FALSE(env_.FileExists(kOld));
  ASSERT_TRUE(env_.FileExists(kNew));
  EXPECT_EQ(Contents(kNew), kSynced);
}

TEST_F(FaultInjectionFileTest, AnUndoneRenameOverAFileBringsThatFileBack) {
  constexpr char kReplacedSynced[] = "the replaced file";
  ASSERT_NO_FATAL_FAILURE(Put(kNew, kReplacedSynced, kUnsynced));
  ASSERT_NO_FATAL_FAILURE(Put(kOld, kSynced, ""));
  ASSERT_TRUE(env_.RenameFile(kOld, kNew).ok());
  EXPECT_EQ(Contents(kNew), kSynced);
  env_.SimulateCrash();
  ASSERT_TRUE(env_.FileExists(kOld));
  EXPECT_EQ(Contents(kOld), kSynced);
  ASSERT_TRUE(env_.FileExists(kNew));
  EXPECT_EQ(Contents(kNew), kReplacedSynced) << "the replaced file's durable bytes";
}

TEST_F(FaultInjectionFileTest, ARemovalWithoutSyncDirIsUndone) {
  ASSERT_NO_FATAL_FAILURE(Put(kOld, kSynced, kUnsynced));
  ASSERT_TRUE(env_.RemoveFile(kOld).ok());
  EXPECT_FALSE(env_.FileExists(kOld));
  env_.SimulateCrash();
  ASSERT_TRUE(env_.FileExists(kOld));
  EXPECT_EQ(Contents(kOld), kSynced);
}

TEST_F(FaultInjectionFileTest, ARemovalFollowedBySyncDirSurvives) {
  ASSERT_NO_FATAL_FAILURE(Put(kOld, kSynced, kUnsynced));
  ASSERT_TRUE(env_.RemoveFile(kOld).ok());
  ASSERT_TRUE(env_.SyncDir(kDir).ok());
  env_.SimulateCrash();
  EXPECT_FALSE(env_.FileExists(kOld));
}

TEST_F(FaultInjectionFileTest, AFileRecreatedUnderARemovedNameGivesWayToTheRemovedOne) {
  ASSERT_NO_FATAL_FAILURE(Put(kOld, kSynced, ""));
  ASSERT_TRUE(env_.RemoveFile(kOld).ok());
  Result<std::unique_ptr<WritableFile>> file = env_.NewWritableFile(kOld);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("a new file").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  env_.SimulateCrash();
  ASSERT_TRUE(env_.FileExists(kOld));
  EXPECT_EQ(Contents(kOld), kSynced);
}

TEST_F(FaultInjectionFileTest, ARemovalPolicyLetsChosenRemovalsStand) {
  ASSERT_NO_FATAL_FAILURE(Put(kOld, kSynced, ""));
  ASSERT_NO_FATAL_FAILURE(Put(kNew, kSynced, ""));
  ASSERT_TRUE(env_.RemoveFile(kOld).ok());
  ASSERT_TRUE(env_.RemoveFile(kNew).ok());
  env_.SimulateCrash(nullptr, [](const std::string& path) { return path == kOld; });
  EXPECT_FALSE(env_.FileExists(kOld));
  ASSERT_TRUE(env_.FileExists(kNew));
  EXPECT_EQ(Contents(kNew), kSynced);
}

}  // namespace
}  // namespace podium::storage
